"""The stitching layer: the config string, the temporal upsampling, the full-size shapes on `meta`, and the
identity the search rests on: the unfolded receptive fields times the map equal the Conv3d's output."""

import pytest
import torch

from lalrm.model import LaLRM
from lalrm.stitching import RGBLRM, StitchedDecoder, StitchingLayer, parse_stitch_spec, unfold_latents, upsample_latents
from lalrm.stitching.layer import StitchSpec
from wonderland.testing import CONFIGS, _yaml

SPEC_ANYSPLAT = "conv3d_k5x3x3_o1024_s1x2x2_p2x1x1"  # SPEC.md section 7, AnySplat / VGGT
SPEC_MVDUST3R = "conv3d_k5x7x7_o1024_s1x3x3_p2x0x0"
SPEC_RGB_LRM = "conv3d_k5x3x3_o1024_s4x2x2_p2x1x1"  # configs/stitching/search.yaml: back to the LaLRM token grid


def test_spec_strings_parse_to_their_numbers_and_print_back():
    s = parse_stitch_spec(SPEC_ANYSPLAT)
    assert s == StitchSpec((5, 3, 3), 1024, (1, 2, 2), (2, 1, 1))
    assert str(s) == SPEC_ANYSPLAT and parse_stitch_spec(str(s)) == s
    assert parse_stitch_spec(SPEC_MVDUST3R) == StitchSpec((5, 7, 7), 1024, (1, 3, 3), (2, 0, 0))
    assert parse_stitch_spec("conv3d_k3_o8") == StitchSpec((3, 3, 3), 8, (1, 1, 1), (0, 0, 0))  # one number = all three
    assert s.in_features(16) == 16 * 5 * 3 * 3


@pytest.mark.parametrize("bad,words", [("conv2d_k3_o8", "expected conv3d_k"), ("conv3d_k5x3_o8", "kernel '5x3'"),
                                       ("conv3d_k3x3x3_o0", ">= 1"), ("conv3d_k3x3x3_o8_s0", ">= 1"),
                                       ("conv3d_k3x3x3_o8_p3", "smaller than the kernel"), ("", "expected conv3d"),
                                       ("conv3d_k3x3x3_o8_s2x2x2_p1_extra", "expected conv3d")])
def test_bad_spec_strings_say_what_is_wrong(bad, words):
    with pytest.raises(ValueError, match=words):
        parse_stitch_spec(bad)


def test_temporal_upsampling_puts_latent_k_on_frame_4k_and_blends_between():
    latents = torch.randn(2, 16, 4, 3, 5)
    up = upsample_latents(latents)
    assert up.shape == (2, 16, 13, 3, 5)
    for k in range(4):
        torch.testing.assert_close(up[:, :, 4 * k], latents[:, :, k])
    torch.testing.assert_close(up[:, :, 1], 0.75 * latents[:, :, 0] + 0.25 * latents[:, :, 1])
    assert upsample_latents(latents[:, :, :1]).shape == (2, 16, 1, 3, 5)  # one latent frame = one video frame


@pytest.mark.parametrize("spec", ["conv3d_k5x3x3_o6_s1x2x2_p2x1x1", "conv3d_k5x3x3_o6_s4x2x2_p2x1x1",
                                  "conv3d_k3x2x2_o6_s2x2x2_p0x0x0", "conv3d_k5x7x7_o6_s1x3x3_p2x0x0"])
def test_unfolded_rows_times_the_map_equal_the_conv(spec):
    """The closed-form map applied to `unfold_latents` and the Conv3d (with replicate padding) agree: the fitted
    S_k is the stitching layer's weight, not an approximation of it."""
    torch.manual_seed(0)
    layer = StitchingLayer(parse_stitch_spec(spec)).double()
    latents = torch.randn(2, 16, 3, 7, 9, dtype=torch.float64)
    conv = layer(latents)  # (B, C, T', h', w')
    weight, bias = torch.randn(layer.spec.in_features(16), 6, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    layer.load_map(weight, bias)
    rows = unfold_latents(latents, layer.spec)  # (B, T', h', w', d)
    assert rows.shape[:4] == (2, *conv.shape[2:]) and rows.shape[:4] == (2, *layer.spec.output_grid(3, 7, 9))
    torch.testing.assert_close(layer(latents).permute(0, 2, 3, 4, 1), rows @ weight + bias)


def test_full_config_maps_49_frames_at_480x720_onto_the_3d_models_token_grid_on_meta():
    """SPEC's AnySplat / VGGT layer makes one 30 x 45 map per frame (their per-frame 16-pixel tokens); the RGB LRM's
    (the full LaLRM's width and grid) makes the LaLRM token grid 13 x 30 x 45 = 17,550 tokens."""
    full = _yaml(CONFIGS / "lalrm" / "model" / "full.yaml")
    with torch.device("meta"):
        latents = torch.empty(1, 16, 13, 60, 90)
        assert StitchingLayer(parse_stitch_spec(SPEC_ANYSPLAT))(latents).shape == (1, 1024, 49, 30, 45)
        assert StitchingLayer(parse_stitch_spec(SPEC_MVDUST3R))(latents).shape == (1, 1024, 49, 18, 28)
        out = StitchingLayer(parse_stitch_spec(SPEC_RGB_LRM))(latents)
        rgb = RGBLRM(**full)
        lalrm = LaLRM(**full)
        for layer in rgb.candidate_layers():
            assert rgb.layer_grid(layer, 49, 480, 720) == tuple(out.shape[1:]) == (1024, 13, 30, 45)
        assert lalrm.token_grid(49, 480, 720) == (13, 30, 45)
        decoder = StitchedDecoder("rgb_lrm", rgb.stitch_config(), "transformer.blocks.0", SPEC_RGB_LRM)
        assert decoder.activation_grid(49, 480, 720) == (1024, 13, 30, 45)
        assert decoder.activation_grid(49, 240, 360) == (1024, 13, 15, 23)  # lowres: 45 latents -> 23 (padded) tokens
        # the stitched decoder carries no tokenizer and no block 0: a block of the full model is 12.6M parameters
        assert sum(p.numel() for p in decoder.parameters()) < sum(p.numel() for p in rgb.parameters()) - 12_000_000
        with pytest.raises(ValueError, match=r"layer transformer.blocks.0 is \(1024, 13, 30, 45\)"):
            StitchedDecoder("rgb_lrm", rgb.stitch_config(), "transformer.blocks.0",
                            SPEC_ANYSPLAT).activation_grid(49, 480, 720)
