"""Reference renderer: analytic cases, an independent brute-force compositor, invariances."""

import math

import torch

from wonderland.gaussians import Gaussians
from wonderland.render import render, render_batch
from wonderland.render.project import project
from wonderland.render.rasterize import rasterize

from .scenes import head_on_camera, one_gaussian, random_scene, ring_cameras


def test_isotropic_gaussian_head_on_centre_colour_and_falloff():
    cams = head_on_camera(33, focal=40.0)
    z, s, o = 2.0, 0.05, 0.8
    out = render(one_gaussian([0.0, 0.0, z], s, o), cams, background=0.0, backend="reference")
    colour = torch.tensor([1.0, 0.5, 0.25], dtype=torch.float64)
    torch.testing.assert_close(out.rgb[0, :, 16, 16], o * colour)  # centre: alpha = opacity
    torch.testing.assert_close(out.depth[0, 0, 16, 16], torch.tensor(o * z, dtype=torch.float64))
    var = (40.0 * s / z) ** 2 + 0.3  # EWA: (f s / z)^2 plus the 0.3 px low-pass
    for dx, dy in [(1, 0), (0, 2), (2, 2), (3, 1)]:
        expected = o * math.exp(-0.5 * (dx * dx + dy * dy) / var)
        torch.testing.assert_close(out.alpha[0, 0, 16 + dy, 16 + dx].item(), expected)
        torch.testing.assert_close(out.rgb[0, 1, 16 + dy, 16 + dx].item(), 0.5 * expected)
    # Beyond the 3-sigma ellipse nothing is drawn.
    assert out.alpha[0, 0, 16, 16 + math.ceil(3 * math.sqrt(var)) + 1] == 0


def test_opacity_zero_renders_the_background():
    bg = torch.tensor([0.2, 0.4, 0.6], dtype=torch.float64)
    g = random_scene(30)
    g.opacities = torch.zeros_like(g.opacities)
    out = render(g, ring_cameras(2, 16, 20), background=bg, backend="reference")
    torch.testing.assert_close(out.rgb, bg[None, :, None, None].expand(2, 3, 16, 20))
    assert (out.alpha == 0).all() and (out.depth == 0).all()


def test_two_gaussians_composite_front_to_back_whatever_their_order():
    cams = head_on_camera(33)
    near = one_gaussian([0.0, 0.0, 2.0], 0.1, 0.6, (1.0, 0.0, 0.0))
    far = one_gaussian([0.0, 0.0, 4.0], 0.2, 0.9, (0.0, 0.0, 1.0))
    bg = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    for scene in (Gaussians.cat([near, far]), Gaussians.cat([far, near])):
        out = render(scene, cams, bg, backend="reference")
        expected = torch.tensor([0.6, (1 - 0.6) * (1 - 0.9), (1 - 0.6) * 0.9], dtype=torch.float64)
        torch.testing.assert_close(out.rgb[0, :, 16, 16], expected)
        torch.testing.assert_close(out.depth[0, 0, 16, 16].item(), 0.6 * 2.0 + 0.4 * 0.9 * 4.0)


def test_gaussian_behind_the_camera_is_not_drawn():
    cams = head_on_camera(33)
    g = one_gaussian([0.0, 0.0, -2.0], 0.3)
    g.means.requires_grad_()
    behind = render(g, cams, backend="reference")
    assert (behind.alpha == 0).all()
    behind.rgb.sum().backward()  # an empty view still back-propagates: zero gradient, no error
    assert (g.means.grad == 0).all()
    in_front = render(one_gaussian([0.0, 0.0, 2.0], 0.3), cams, backend="reference")
    assert in_front.alpha.amax() > 0.5


def brute_force(g: Gaussians, cams, background):
    """Every Gaussian against every pixel, one at a time in depth order: no tiles, chunks or log-space."""
    h, w = cams.height, cams.width
    v, u = torch.meshgrid(torch.arange(h, dtype=g.means.dtype) + 0.5, torch.arange(w, dtype=g.means.dtype) + 0.5,
                          indexing="ij")
    rgb, alpha = [], []
    for i in range(len(cams)):
        p = project(g.means, g.quats, g.scales, cams.w2c[i], cams.K[i], h, w)
        color, T = torch.zeros(3, h, w, dtype=g.means.dtype), torch.ones(h, w, dtype=g.means.dtype)
        for j, gid in enumerate(p.ids):
            dx, dy = u - p.means2d[j, 0], v - p.means2d[j, 1]
            a, b, c = p.conics[j]
            sigma = 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy
            al = (g.opacities[gid] * torch.exp(-sigma)).clamp(max=0.99)
            al = torch.where((al >= 1 / 255) & (sigma <= 4.5), al, 0)
            color += (al * T) * g.colors[gid][:, None, None]
            T = T * (1 - al)
        rgb.append(color + T * background[:, None, None])
        alpha.append(1 - T)
    return torch.stack(rgb), torch.stack(alpha)[:, None]


def test_matches_a_brute_force_compositor_on_a_random_scene():
    g = random_scene(60, seed=3)
    cams = ring_cameras(2, 21, 27)  # sizes that are not multiples of the tile
    bg = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    out = render(g, cams, bg, backend="reference")
    rgb, alpha = brute_force(g, cams, bg)
    assert alpha.amax() > 0.9  # the scene covers the image
    torch.testing.assert_close(out.rgb, rgb)
    torch.testing.assert_close(out.alpha, alpha)


def test_image_does_not_depend_on_tile_chunk_or_batch_size():
    g = random_scene(200, seed=1, scale=(0.02, 0.4))
    cams = ring_cameras(1, 40, 37)
    p = project(g.means, g.quats, g.scales, cams.w2c[0], cams.K[0], 40, 37)
    feats = torch.cat([g.colors[p.ids], p.depths[:, None]], -1)
    ref = rasterize(p, g.opacities[p.ids], feats, 40, 37)
    for tile, chunk, pairs in [(16, 7, 2**12), (4, 64, 2**20), (8, 1, 64)]:
        other = rasterize(p, g.opacities[p.ids], feats, 40, 37, tile=tile, chunk=chunk, pairs_per_batch=pairs)
        torch.testing.assert_close(other, ref)


def test_render_batch_equals_per_element_render():
    g = Gaussians(*(torch.stack([getattr(random_scene(20, seed=s), n) for s in (0, 1)])
                    for n in ("means", "quats", "scales", "opacities", "colors")))
    cams = ring_cameras(4, 12, 10)
    cams = cams.__class__(cams.c2w.reshape(2, 2, 4, 4), cams.K.reshape(2, 2, 3, 3), 12, 10)
    out = render_batch(g, cams, backend="reference")
    assert out.rgb.shape == (2, 2, 3, 12, 10)
    for b in range(2):
        single = render(g[b], cams[b], backend="reference")
        torch.testing.assert_close(out.rgb[b], single.rgb)
        torch.testing.assert_close(out.depth[b], single.depth)


def test_opaque_tiles_stop_early_without_changing_the_image_beyond_the_threshold(monkeypatch):
    """A wall of 600 Gaussians (opacity 0.95, much overlap) in front of the camera: rendering (no grad) stops
    tiles whose pixels are all below T = 1e-4, as gsplat does; the image moves by less than 1e-4 and less than
    half the work is done. With gradients every Gaussian is composited: exactly the full sum."""
    from wonderland.render import rasterize as module

    g = random_scene(600, seed=5, scale=(0.3, 0.6))
    gen = torch.Generator().manual_seed(6)
    g.means = (torch.rand(600, 3, generator=gen, dtype=g.means.dtype) - 0.5) * torch.tensor([4.0, 4.0, 3.0]) \
        + torch.tensor([0.0, 0.0, 3.5])  # x, y in [-2, 2], z in [2, 5]: covers the view (half-width 1.2 at z 2)
    g.opacities = torch.full_like(g.opacities, 0.95)
    cams = head_on_camera(24, focal=20.0)
    p = project(g.means, g.quats, g.scales, cams.w2c[0], cams.K[0], 24, 24)
    feats = torch.cat([g.colors[p.ids], torch.ones_like(p.depths)[:, None]], -1)  # a constant feature: weights
    pairs = []
    real = module._composite_items
    monkeypatch.setattr(module, "_composite_items", lambda *a: pairs.append(a[-1].numel()) or real(*a))
    with torch.no_grad():
        full = rasterize(p, g.opacities[p.ids], feats, 24, 24, pairs_per_batch=2**13,
                         stop_transmittance=0.0)
        work_full = sum(pairs)
        pairs.clear()
        fast = rasterize(p, g.opacities[p.ids], feats, 24, 24, pairs_per_batch=2**13)
        work_fast = sum(pairs)
    assert full[1].amax() < 1e-4  # every pixel ends opaque: the stop applies everywhere
    assert work_fast < 0.5 * work_full
    assert (fast[0] - full[0]).abs().amax() < 1e-4 and (fast[1] - full[1]).abs().amax() < 1e-4
    assert not torch.equal(fast[0], full[0])  # the skipped Gaussians were really skipped
    opacities = g.opacities[p.ids].clone().requires_grad_()
    with_grad = rasterize(p, opacities, feats, 24, 24)
    torch.testing.assert_close(with_grad[0].detach(), full[0])
