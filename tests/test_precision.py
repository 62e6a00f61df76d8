"""Geometry, rendering and metrics are full precision whatever autocast surrounds them (`wonderland.precision`).

Under CPU bf16 autocast (the stand-in for CUDA's) every matmul would otherwise run in bf16: these functions
must give *exactly* the float32 / float64 results (not merely close ones), and take bf16 inputs as float32.
"""

import pytest
import torch

from wonderland.geometry import (
    Cameras,
    look_at,
    make_K,
    normalize_cameras,
    plucker_embedding,
    quat_to_matrix,
    ray_bundle,
)
from wonderland.metrics import psnr, ssim
from wonderland.precision import full_precision, no_autocast
from wonderland.render import render

from .geometry.test_plucker import random_cameras
from .render.scenes import random_scene, ring_cameras


def bf16():
    return torch.autocast("cpu", dtype=torch.bfloat16)


def test_no_autocast_switches_off_an_enclosing_autocast_and_restores_it():
    a, b = torch.randn(8, 8), torch.randn(8, 8)
    with bf16():
        assert (a @ b).dtype == torch.bfloat16  # what autocast does to the geometry's matmuls
        with no_autocast():
            assert torch.equal(a @ b, torch.mm(a, b).float()) and (a @ b).dtype == torch.float32
        assert (a @ b).dtype == torch.bfloat16
        assert full_precision(torch.matmul)(a.bfloat16(), b).dtype == torch.float32  # bf16 inputs upcast
        assert full_precision(torch.matmul)(a.double(), b.double()).dtype == torch.float64  # float64 kept


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_rays_and_plucker_under_autocast_are_exact(dtype):
    c2w, K = random_cameras(3, torch.Generator().manual_seed(0))
    c2w, K = c2w.to(dtype), K.to(dtype)
    ref_o, ref_d = ray_bundle(c2w, K, 12, 16)
    ref = plucker_embedding(c2w, K, 12, 16)
    with bf16():
        o, d = ray_bundle(c2w, K, 12, 16)
        pl = plucker_embedding(c2w, K, 12, 16)  # raised "expected scalar type Float but found BFloat16"
    assert pl.dtype == dtype and torch.equal(pl, ref) and torch.equal(o, ref_o) and torch.equal(d, ref_d)


def test_spec_known_value_under_autocast():
    c2w = torch.eye(4)
    c2w[:3, 3] = torch.tensor([1.0, 2.0, 3.0])
    with bf16():
        pl = plucker_embedding(c2w, make_K(2.0, 2.0, 2.0, 1.5).float(), height=3, width=4)
    expected = torch.tensor([2.599735, -2.414039, 0.742781, -0.557086, -0.371391, 0.742781])
    torch.testing.assert_close(pl[:, 0, 0], expected, atol=1e-6, rtol=0)  # bf16 would be off by ~1e-2


def test_camera_transforms_under_autocast_are_exact():
    angles = torch.linspace(0, 1, 7)
    eye = torch.stack([3 * angles.sin(), 0.3 * angles, -3 * angles.cos()], -1)
    cams = Cameras(look_at(eye, torch.zeros_like(eye)), make_K(40.0, 40.0, 24.0, 16.0).float(), 32, 48)
    pts = torch.randn(5, 3)

    def transforms():
        normed, norm = normalize_cameras(cams)
        uv, z = cams.project(pts)
        return [normed.c2w, norm.invert(normed.c2w), norm.points_to_world(pts[None]), cams.w2c, uv, z,
                cams.resize(16, 24).K, quat_to_matrix(torch.tensor([0.9, 0.1, -0.2, 0.3]))]

    ref = transforms()
    with bf16():
        got = transforms()
    assert all(g.dtype == torch.float32 and torch.equal(g, r) for g, r in zip(got, ref))


def test_render_under_autocast_equals_float32_values_and_gradients():
    scene = random_scene(100, seed=1, dtype=torch.float32)
    cams = ring_cameras(2, 12, 16, dtype=torch.float32)

    def run(autocast: bool, deferred: bool):
        g = scene.to(torch.float32)
        params = [g.means, g.colors, g.opacities]
        for p in params:
            p.requires_grad_(True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            out = render(g, cams, 1.0, deferred=deferred)
            (out.rgb.square().mean() + out.depth.mean()).backward()  # backward inside autocast, as trainers do
        return [out.rgb.detach(), out.depth.detach(), *(p.grad for p in params)]

    for deferred in (False, True):
        ref, got = run(False, deferred), run(True, deferred)
        assert got[0].dtype == torch.float32
        assert all(torch.equal(g, r) for g, r in zip(got, ref)), deferred


def test_half_precision_gaussians_are_rendered_in_float32():
    scene = random_scene(300, seed=2, dtype=torch.float32).to(torch.bfloat16)
    cams = ring_cameras(1, 24, 32, dtype=torch.float32)
    out = render(scene, cams, 1.0)
    assert out.rgb.dtype == torch.float32
    assert torch.equal(out.rgb, render(scene.to(torch.float32), cams, 1.0).rgb)


def test_image_metrics_under_autocast_are_exact():
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(2, 3, 24, 32, generator=g), torch.rand(2, 3, 24, 32, generator=g)
    ref = (psnr(a, b), ssim(a, b))
    with bf16():
        got = (psnr(a, b), ssim(a, b))
    assert all(torch.equal(x, y) for x, y in zip(got, ref))
