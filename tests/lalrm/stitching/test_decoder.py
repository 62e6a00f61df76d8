"""The RGB LRM adapter and the stitched decoder: entering after a layer reproduces the model, pruning, the saved
folder, loading by `_class_name`, and the product using a stitched decoder in the LaLRM's place."""

import json

import pytest
import torch

from lalrm.decoders import load_decoder
from lalrm.model import LaLRM
from lalrm.stitching import RGBLRM, Stitchable, StitchedDecoder, adapter_class
from wonderland.errors import InputError
from wonderland.testing import tiny_lalrm_kwargs

from ..conftest import orbit_cameras

STITCH = "conv3d_k5x3x3_o64_s4x2x2_p2x1x1"


@pytest.fixture(scope="module")
def rgb():
    torch.manual_seed(0)
    return RGBLRM(**tiny_lalrm_kwargs(head_stride=4)).eval()


def test_the_rgb_lrm_is_a_stitchable_adapter_and_errors_name_what_is_known(rgb):
    assert isinstance(rgb, Stitchable) and adapter_class("rgb_lrm") is RGBLRM
    assert adapter_class("lalrm.stitching.rgb_lrm:RGBLRM") is RGBLRM
    with pytest.raises(ValueError, match="expected one of rgb_lrm"):
        adapter_class("anysplat")
    with pytest.raises(ValueError, match="lacks"):
        adapter_class("lalrm.model:LaLRM")  # a latent model is no RGB adapter
    assert rgb.candidate_layers() == ["tokenizer.rgb_embed", "tokenizer", "transformer.blocks.0",
                                      "transformer.blocks.1"]


@torch.no_grad()
def test_entering_after_any_layer_with_its_own_activation_reproduces_the_model(rgb):
    """forward_from(layer, the hooked activation laid out by layer_to_grid) == forward_rgb, for every layer: what
    the search fits to is exactly what the stitched decoder feeds onwards (same layout, same entry point)."""
    cams = orbit_cameras(2, 9, 32, 48).to(torch.float32)
    frames = torch.rand(2, 9, 3, 32, 48, generator=torch.Generator().manual_seed(1))
    reference = rgb.forward_rgb(frames, cams)
    seen = {}
    for layer in rgb.candidate_layers():
        def hook(module, inputs, output, layer=layer):
            seen[layer] = rgb.layer_to_grid(layer, output, 9, 32, 48)

        handle = rgb.get_submodule(layer).register_forward_hook(hook)
        rgb.forward_rgb(frames, cams)
        handle.remove()
        assert seen[layer].shape == (2, *rgb.layer_grid(layer, 9, 32, 48))
        out = rgb.forward_from(layer, seen[layer], cams)
        for k in rgb.output_names:
            torch.testing.assert_close(out[k], reference[k], msg=f"{layer}: {k}")
    changed = rgb.forward_from("tokenizer", torch.zeros_like(seen["transformer.blocks.1"]), cams)
    assert not torch.allclose(changed["colors"], reference["colors"])  # the activation matters


@torch.no_grad()
def test_a_stitched_decoder_keeps_only_the_layers_after_the_cut_and_saves_and_loads(rgb, tmp_path):
    cams = orbit_cameras(1, 9, 32, 48).to(torch.float32)
    latents = torch.randn(1, 16, 3, 4, 6, generator=torch.Generator().manual_seed(2))
    sizes = []
    for layer in rgb.candidate_layers():
        decoder = StitchedDecoder.from_model(rgb, "rgb_lrm", layer, STITCH)
        names = set(decoder.state_dict())
        assert ("model.tokenizer.pose_embed.weight" in names) == (layer == "tokenizer.rgb_embed")
        assert not any("rgb_embed" in n for n in names)
        assert ("model.transformer.blocks.0.qkv.weight" in names) == (layer in ("tokenizer.rgb_embed", "tokenizer"))
        kept = {k: v for k, v in rgb.state_dict().items() if f"model.{k}" in names}
        assert all(torch.equal(decoder.state_dict()[f"model.{k}"], v) for k, v in kept.items())
        out = decoder(latents, cams)
        decoder.save_pretrained(tmp_path / layer)
        assert json.loads((tmp_path / layer / "config.json").read_text())["_class_name"] == "StitchedDecoder"
        again = load_decoder(tmp_path / layer)
        assert isinstance(again, StitchedDecoder) and not any(p.requires_grad for p in again.parameters())
        torch.testing.assert_close(again(latents, cams).gaussians.means, out.gaussians.means)
        sizes.append(sum(p.numel() for p in decoder.parameters()))
    assert sizes == sorted(sizes, reverse=True)  # a later cut carries less of the model
    with pytest.raises(RuntimeError, match="pruned"):
        decoder.model.forward_rgb(torch.rand(1, 9, 3, 32, 48), cams)
    with pytest.raises(ValueError, match="makes 32 channels; layer tokenizer has 64"):
        StitchedDecoder.from_model(rgb, "rgb_lrm", "tokenizer", "conv3d_k5x3x3_o32_s4x2x2_p2x1x1")
    with pytest.raises(ValueError, match="not a candidate"):
        StitchedDecoder.from_model(rgb, "rgb_lrm", "head", STITCH)
    with pytest.raises(ValueError, match=r"turns 9 x 32 x 48 into \(64, 9, 2, 3\)"):
        StitchedDecoder.from_model(rgb, "rgb_lrm", "tokenizer", "conv3d_k5x3x3_o64_s1x2x2_p2x1x1")(latents, cams)


def test_decoders_load_by_class_name_and_an_rgb_model_is_refused(rgb, tmp_path):
    LaLRM(**tiny_lalrm_kwargs()).save_pretrained(tmp_path / "lalrm")
    assert type(load_decoder(tmp_path / "lalrm")) is LaLRM
    rgb.save_pretrained(tmp_path / "rgb")
    with pytest.raises(InputError, match="'RGBLRM' is not a latent 3D decoder"):
        load_decoder(tmp_path / "rgb")


def test_the_pipeline_reconstructs_with_a_stitched_decoder_named_by_the_manifest(rgb, tmp_path):
    """A family whose manifest's `lalrm` entry is a stitched decoder folder: the product loads it (by its
    `_class_name`) and `reconstruct` gives that decoder's Gaussians, mapped back to the trajectory's units."""
    from lalrm.inference import reconstruct
    from wonderland.pipeline import WonderlandPipeline
    from wonderland.testing import build_tiny_family

    family = build_tiny_family(tmp_path / "family")
    torch.manual_seed(3)
    decoder = StitchedDecoder.from_model(rgb, "rgb_lrm", "tokenizer.rgb_embed", STITCH)
    decoder.save_pretrained(tmp_path / "stitched")
    manifest = json.loads((family / "wonderland.json").read_text())
    manifest["lalrm"] = str(tmp_path / "stitched")
    (family / "wonderland.json").write_text(json.dumps(manifest))
    pipe = WonderlandPipeline.from_pretrained(family)
    assert isinstance(pipe.lalrm, StitchedDecoder)
    cams = orbit_cameras(1, 49, 32, 48).to(torch.float32)
    cams.c2w[..., :3, 3] *= 5  # trajectory units: 5x the normalised scene
    latents = torch.randn(16, 13, 4, 6, generator=torch.Generator().manual_seed(4))
    g = pipe.reconstruct(latents, cams[0])
    expected = reconstruct(decoder.eval(), latents[None], cams)[0]
    torch.testing.assert_close(g.means, expected.means)
    assert g.means.shape == (49 * 8 * 12, 3) and g.means.norm(dim=-1).max() > 5  # back in trajectory units
