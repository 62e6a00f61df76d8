"""Inference: Gaussians come back in the cameras' own world frame and units; view evaluation."""

import pytest
import torch

from lalrm import LaLRM
from lalrm.inference import evaluate_views, reconstruct
from wonderland.geometry import Cameras, axis_angle_to_matrix, quat_to_matrix
from wonderland.render import render

from .conftest import orbit_cameras


def test_reconstruct_is_equivariant_to_the_world_frame(tiny_kwargs):
    """The same clip filmed in another world frame (rotated, moved, 2.5x the units) must give the same
    Gaussians mapped by that similarity: the model only ever sees normalised poses."""
    torch.manual_seed(0)
    model = LaLRM(**tiny_kwargs).eval()
    cams = orbit_cameras(1, 9, 16, 24)
    f64 = dict(dtype=torch.float64)
    R = axis_angle_to_matrix(torch.tensor([0.3, -0.5, 0.8], **f64), torch.tensor(0.7, **f64))
    t, s = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64), 2.5
    moved = cams.c2w.clone()
    moved[..., :3, :3] = R @ cams.c2w[..., :3, :3]
    moved[..., :3, 3] = s * (cams.c2w[..., :3, 3] @ R.T) + t
    latents = torch.randn(1, 16, 3, 2, 3)
    a = reconstruct(model, latents, cams)
    b = reconstruct(model, latents, Cameras(moved, cams.K, 16, 24))
    Rf, tf = R.float(), t.float()
    assert torch.allclose(b.means, s * a.means @ Rf.T + tf, atol=1e-4)
    assert torch.allclose(b.scales, s * a.scales, rtol=1e-4)
    assert torch.allclose(quat_to_matrix(b.quats), Rf @ quat_to_matrix(a.quats), atol=1e-4)
    assert torch.allclose(a.opacities, b.opacities, atol=1e-5) and torch.allclose(a.colors, b.colors, atol=1e-5)


def test_evaluate_views_scores_its_own_render_perfectly(tiny_kwargs):
    torch.manual_seed(0)
    model = LaLRM(**{**tiny_kwargs, "init_scale": 0.2, "scale_max": 0.5}).eval()
    cams = orbit_cameras(1, 9, 16, 24)
    g = reconstruct(model, torch.randn(1, 16, 3, 2, 3), cams)[0]
    views = cams[0, [2, 5]].resize(16, 24)
    frames = render(g, views, 1.0).rgb
    seen = []
    perfect = evaluate_views(g, views, frames, lpips=lambda p, t: seen.append(p.shape) or (p - t).abs().mean((1, 2, 3)))
    assert perfect["psnr"] == pytest.approx(100.0) and perfect["ssim"] == pytest.approx(1.0, abs=1e-4)
    assert perfect["lpips"] < 1e-6 and seen == [(2, 3, 16, 24)]
    grey = evaluate_views(g, views, torch.full_like(frames, 0.5))
    mse = (frames.clamp(0, 1) - 0.5).pow(2).mean((1, 2, 3))
    assert grey["psnr"] == pytest.approx((-10 * torch.log10(mse)).mean().item(), rel=1e-4)
    assert grey["ssim"] < perfect["ssim"] - 1e-3
