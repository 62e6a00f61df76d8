"""LaLRM network: sizes of the paper configs, pad/crop and frame grouping, pixel alignment, init, I/O."""

import json

import pytest
import torch

from lalrm import LaLRM
from lalrm.model.head import GaussianHead, resample_head_kernel
from lalrm.stages import init_from_stage
from wonderland.latents import unpad_frames

from .conftest import orbit_cameras

FULL = dict(width=1024, depth=24, num_heads=16, patch_size=2)


@pytest.mark.parametrize("stride, height, width, latent, grid", [
    (8, 480, 720, (60, 90), (13, 30, 45)),  # highres: 17,550 tokens
    (16, 240, 360, (30, 45), (13, 15, 23)),  # lowres: 45 latent columns padded to 46
])
def test_full_model_sizes_on_meta(stride, height, width, latent, grid):
    with torch.device("meta"):
        model = LaLRM(**FULL, head_stride=stride)
        latents = torch.empty(1, 16, 13, *latent)
        plucker = torch.empty(1, 49, 6, height, width)
        raw = model.predict_map(latents, plucker)
    assert model.token_grid(49, height, width) == grid
    assert raw.shape == (1, 49, 12, 240, 360)  # cropped back to the real pixels in both stages
    assert 49 * 240 * 360 == 4_233_600
    assert model.tokenizer.pose_embed.weight.shape == (1024, 6, 4, 16, 16)
    assert model.tokenizer.latent_embed.weight.shape == (1024, 16, 2, 2)
    assert model.head.deconv.weight.shape == (1024, 12, 4, stride, stride)
    assert len(model.transformer.blocks) == 24


def test_token_count_highres():
    with torch.device("meta"):
        model = LaLRM(**FULL, head_stride=8)
    t, h, w = model.token_grid(49, 480, 720)
    assert t * h * w == 17_550


def _changed(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(B, F, 12, H, W) x 2 -> (F, H, W) mask of Gaussians whose raw parameters differ."""
    return (a - b).abs().amax(dim=(0, 2)) > 0


def test_padding_crop_and_frame_grouping_by_locality(tiny_kwargs):
    """Without transformer blocks a token only sees its own patch, so a change in one latent pixel must
    move exactly the Gaussians of its token's block, in the frames of its latent frame. This pins the
    padding side (bottom/right), the crop, and the frame-0 grouping of the head."""
    torch.manual_seed(0)
    model = LaLRM(**{**tiny_kwargs, "depth": 0})  # latent 3x5 (odd): padded to 4x6, map 12x20
    latents, plucker = torch.randn(1, 16, 3, 3, 5), torch.randn(1, 9, 6, 24, 40)
    base = model.predict_map(latents, plucker)
    assert base.shape == (1, 9, 12, 12, 20)

    bumped = latents.clone()
    bumped[0, :, 2, 2, 4] += 1.0  # last row/col: the token (1, 2), half of which is padding
    mask = _changed(model.predict_map(bumped, plucker), base)
    expected = torch.zeros_like(mask)
    expected[5:9, 8:12, 16:20] = True  # latent frame 2 <- frames 5..8; token rows 8..15 cropped to 12
    assert torch.equal(mask, expected)

    bumped = latents.clone()
    bumped[0, :, 0, 0, 0] += 1.0
    mask = _changed(model.predict_map(bumped, plucker), base)
    expected = torch.zeros_like(mask)
    expected[0, 0:8, 0:8] = True  # latent frame 0 <- frame 0 only (its 3 padding copies are dropped)
    assert torch.equal(mask, expected)

    bumped_pl = plucker.clone()
    bumped_pl[0, 4, :, 0, 0] += 1.0  # frame 4 is in latent group 1 = frames 1..4
    mask = _changed(model.predict_map(latents, bumped_pl), base)
    assert mask.any(dim=(1, 2)).nonzero().flatten().tolist() == [1, 2, 3, 4]


def test_gaussians_are_pixel_aligned_and_initialised(tiny_kwargs):
    torch.manual_seed(0)
    model = LaLRM(**tiny_kwargs, init_scale=0.02, init_opacity=0.1, near=0.5, far=10.0, init_distance=3.0)
    cams = orbit_cameras(2, 9, 24, 40)
    out = model(torch.randn(2, 16, 3, 3, 5), cams)
    g = out.gaussians
    assert g.means.shape == (2, 9 * 12 * 20, 3) and out.distance.shape == (2, 9, 12, 20)
    small = cams.resize(12, 20)
    uv, depth = small.project(g.means.reshape(2, 9, 240, 3).to(small.c2w))  # (B, F, 240, 2)
    v, u = torch.meshgrid(torch.arange(12) + 0.5, torch.arange(20) + 0.5, indexing="ij")
    centres = torch.stack([u, v], -1).reshape(240, 2).to(uv)
    assert torch.allclose(uv, centres.expand_as(uv), atol=1e-3)  # Gaussian (f, i, j) sits on ray (f, i, j)
    assert (depth > 0).all()
    # Initial activations are the configured values (small raw head output around the bias).
    assert abs(g.opacities.mean().item() - 0.1) < 0.02
    assert abs(g.scales.log().mean().exp().item() - 0.02) < 0.004
    assert abs(out.distance.mean().item() - 3.0) < 0.3
    assert torch.allclose(g.quats.norm(dim=-1), torch.ones(1)) and g.quats[..., 0].mean() > 0.95
    assert (out.distance >= 0.5).all() and (out.distance <= 10.0).all()


def test_save_pretrained_roundtrip(tmp_path, tiny_kwargs):
    torch.manual_seed(0)
    model = LaLRM(**tiny_kwargs, near=0.2)
    model.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["near"] == 0.2
    assert (tmp_path / "diffusion_pytorch_model.safetensors").is_file()
    loaded = LaLRM.from_pretrained(tmp_path)
    latents, pl = torch.randn(1, 16, 3, 2, 3), torch.randn(1, 9, 6, 16, 24)
    assert torch.equal(loaded.predict_map(latents, pl), model.predict_map(latents, pl))


def test_gradient_checkpointing_keeps_gradients(tiny_kwargs):
    torch.manual_seed(0)
    model = LaLRM(**tiny_kwargs)
    latents, pl = torch.randn(1, 16, 3, 2, 3), torch.randn(1, 9, 6, 16, 24)
    grads = []
    for on in (False, True):
        if on:
            model.enable_gradient_checkpointing()
        model.zero_grad()
        model.predict_map(latents, pl).square().mean().backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    assert model.transformer.gradient_checkpointing
    assert torch.allclose(grads[0], grads[1], atol=1e-6)


def test_head_resample_shrinks_by_area_and_grows_by_repeat():
    torch.manual_seed(0)
    low = GaussianHead(32, 16, 0.01, 0.1)
    high = GaussianHead(32, 8, 0.01, 0.1)
    high.load_state_dict({**low.state_dict(), "deconv.weight": resample_head_kernel(low.deconv.weight, 8)})
    tokens = torch.randn(1, 2 * 2 * 3, 32)
    out_low, out_high = low(tokens, (2, 2, 3)), high(tokens, (2, 2, 3))  # (1, 5, 12, 32, 48), (1, 5, 12, 16, 24)
    pooled = torch.nn.functional.avg_pool2d(out_low.flatten(0, 1), 2).unflatten(0, (1, 5))
    assert torch.allclose(out_high, pooled, atol=1e-5)  # each new Gaussian = mean of the 2x2 it replaces
    grown = resample_head_kernel(high.deconv.weight, 16)
    assert torch.equal(grown[..., ::2, ::2], high.deconv.weight) and torch.equal(grown[..., 1::2, 1::2],
                                                                                  high.deconv.weight)
    with pytest.raises(ValueError):
        resample_head_kernel(low.deconv.weight, 6)


def test_init_from_lowres_copies_backbone_and_resamples_head(tmp_path, tiny_kwargs):
    torch.manual_seed(0)
    low = LaLRM(**{**tiny_kwargs, "head_stride": 16})
    low.save_pretrained(tmp_path)
    high = LaLRM(**{**tiny_kwargs, "head_stride": 8})
    init_from_stage(high, tmp_path)
    for (name, a), (_, b) in zip(low.state_dict().items(), high.state_dict().items()):
        if name != "head.deconv.weight":
            assert torch.equal(a, b), name
    latents, pl = torch.randn(1, 16, 3, 2, 3), torch.randn(1, 9, 6, 16, 24)
    pooled = torch.nn.functional.avg_pool2d(low.predict_map(latents, pl).flatten(0, 1), 2)
    assert torch.allclose(high.predict_map(latents, pl).flatten(0, 1), pooled, atol=1e-5)
    assert unpad_frames(torch.arange(12), 0).tolist() == list(range(3, 12))
