"""The LaLRM training computation (model -> Gaussians -> deferred render -> loss -> backward) under CPU bf16
autocast, the stand-in for the CUDA autocast that `lalrm.train` (through accelerate) and `reconstruct` use.

It used to crash in `plucker_embedding`. Now geometry and rendering are fp32 inside autocast and only the
network runs in bf16: 8 significant bits, so the activated Gaussian parameters deviate by ~1 % of their
range (measured: means 0.8 %, scales 2.6 %, opacities 1.1 % of the largest value), the renders agree to
~59 dB, the loss to 0.15 % and the gradient direction to cosine 0.999. The bounds are ~3x those numbers.
"""

import copy

import torch

from lalrm import LaLRM
from lalrm.inference import reconstruct
from lalrm.loss import LossConfig, build_loss
from wonderland.metrics import psnr
from wonderland.render import render_batch

from .conftest import orbit_cameras


def _step(model, latents, cams, loss_fn, target, autocast: bool):
    model = copy.deepcopy(model)
    sup = cams[:, :3].resize(16, 24)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        out = model(latents, cams)
        rgb = render_batch(out.gaussians, sup, 1.0, deferred=True).rgb
        terms = loss_fn(rgb, target, out.gaussians.opacities, out.distance, out.gaussians.colors)
        terms["loss"].backward()
    grad = torch.cat([p.grad.flatten() for p in model.parameters()])
    return out.gaussians, rgb.detach(), terms["loss"].item(), grad


def test_forward_backward_under_bf16_autocast_is_close_to_float32():
    torch.manual_seed(0)
    model = LaLRM(width=64, depth=2, num_heads=4, patch_size=2, head_stride=8)
    cams = orbit_cameras(1, 9, 32, 48)
    latents = torch.randn(1, 16, 3, 4, 6)
    loss_fn = build_loss(LossConfig(perceptual=0.5, opacity=0.1, depth=0.01, color_tv=0.1, allow_random_weights=True))
    target = torch.rand(1, 3, 3, 16, 24, generator=torch.Generator().manual_seed(1))
    g32, rgb32, loss32, grad32 = _step(model, latents, cams, loss_fn, target, autocast=False)
    g16, rgb16, loss16, grad16 = _step(model, latents, cams, loss_fn, target, autocast=True)
    assert g16.means.dtype == rgb16.dtype == grad16.dtype == torch.float32
    for name, bound in (("means", 0.03), ("colors", 0.01), ("scales", 0.08), ("opacities", 0.03), ("quats", 0.01)):
        ref, got = getattr(g32, name).detach(), getattr(g16, name).detach()
        assert (got - ref).abs().max() < bound * ref.abs().max(), name
    assert psnr(rgb16, rgb32).min() > 50
    assert abs(loss16 - loss32) < 0.005 * loss32
    assert torch.nn.functional.cosine_similarity(grad16, grad32, dim=0) > 0.995


def test_reconstruct_keeps_a_callers_cpu_autocast():
    """`reconstruct` turns bf16 autocast on for CUDA; on CPU it used to switch a caller's autocast *off*, which
    left bf16 latents facing fp32 weights (a crash)."""
    torch.manual_seed(0)
    model = LaLRM(width=32, depth=1, num_heads=2, patch_size=2, head_stride=8).eval()
    cams = orbit_cameras(1, 9, 32, 48)
    latents = torch.randn(1, 16, 3, 4, 6)
    ref = reconstruct(model, latents, cams)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = reconstruct(model, latents.bfloat16(), cams)
    assert got.means.dtype == torch.float32
    assert (got.means - ref.means).abs().max() < 0.03 * ref.means.abs().max()
