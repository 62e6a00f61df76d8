"""Merging chunks on a scene with known answers: a textured wall seen by a camera sliding along it.

Frame f's camera sits at x = 0.5 f looking down +z at the wall z = 4; 8 x 8 pixels with fx = 8, so one
pixel is 0.5 units on the wall and each frame moves by one pixel. A frame sees the wall's x in
[c - 2, c + 2); the Gaussian of frame f, column j sits at x = 0.5 (f + j) - 1.75.
"""

import pytest
import torch

from wonderland.gaussians import Gaussians, pixel_aligned_gaussians
from wonderland.geometry import Cameras, axis_angle_to_matrix, ray_bundle
from wonderland.pipeline.merge import PoseNormalization, merge_chunks, move
from wonderland.trajectories.chunks import plan_chunks

S = 8  # map size


def wall_cameras(frames) -> Cameras:
    c2w = torch.eye(4, dtype=torch.float64).repeat(len(frames), 1, 1)
    c2w[:, 0, 3] = 0.5 * torch.as_tensor(frames, dtype=torch.float64)
    K = torch.tensor([[8.0, 0, 4], [0, 8, 4], [0, 0, 1]], dtype=torch.float64)
    return Cameras(c2w, K, S, S)


def wall_gaussians(cams: Cameras) -> Gaussians:
    """Pixel-aligned Gaussians (F*8*8,) on the wall, frame-major as the LaLRM makes them."""
    o, d = ray_bundle(cams.c2w.float(), cams.K.float(), S, S)  # (F, 8, 8, 3), unit directions
    o, d = o.reshape(-1, 3), d.reshape(-1, 3)
    n = len(o)
    colors = torch.rand(n, 3, generator=torch.Generator().manual_seed(0))
    return pixel_aligned_gaussians(o, d, 4.0 / d[:, 2], colors, torch.full((n, 3), 0.05),
                                   torch.tensor([1.0, 0, 0, 0]).expand(n, 4), torch.ones(n))


def chunks_of(n, f, m):
    plan = plan_chunks(n, f, m)
    cams = [wall_cameras(range(c.start, c.stop)) for c in plan]
    return plan, cams, [wall_gaussians(c) for c in cams]


def test_previous_keeps_only_what_is_new():
    plan, cams, gs = chunks_of(9, 5, 1)  # frames 0-4 and 4-8
    merged, info = merge_chunks(gs, cams, plan, (S, S), "previous")
    # Chunk 0 sees x < 4. Chunk 1 drops its frame 4 (the one it shares) and everything at x < 4: what is
    # left is frame f's columns j with f + j >= 12, i.e. 1 + 2 + 3 + 4 columns of 8 rows.
    assert info[1].dropped_overlap == 64 and info[1].kept == 80
    assert merged.num == 5 * 64 + 80 < 2 * 5 * 64
    new = merged.means[5 * 64:]
    assert bool((new[:, 0] > 4).all())
    assert torch.equal(merged.means[:5 * 64], gs[0].means)  # the earlier chunk's Gaussians untouched


def test_previous_keeps_a_new_occluder_in_front_of_what_was_seen():
    plan, cams, gs = chunks_of(9, 5, 1)
    g = gs[1]
    i = 1 * 64 + 3 * 8 + 0  # chunk 1, frame 5, row 3, column 0: wall at x = 0.75, seen by chunk 0
    origin = cams[1].c2w[1, :3, 3].float()
    for factor, kept in ((0.5, 81), (1.5, 80)):  # in front of the wall: new; behind it: covered
        means = g.means.clone()
        means[i] = origin + factor * (g.means[i] - origin)
        moved = Gaussians(means, g.quats, g.scales, g.opacities, g.colors)
        _, info = merge_chunks([gs[0], moved], cams, plan, (S, S), "previous")
        assert info[1].kept == kept, factor


def test_align_undoes_a_similarity_between_two_takes():
    plan, cams, gs = chunks_of(9, 6, 3)  # frames 0-5 and 3-8: an overlap of 3 frames
    clean, clean_info = merge_chunks(gs, cams, plan, (S, S), "previous")
    assert clean_info[1].kept == 6 * 8  # frames 6-8, chunk 0 sees x < 4.5: columns with f + j >= 13
    f64 = torch.float64
    R = axis_angle_to_matrix(torch.tensor([0.3, 1.0, 0.2], dtype=f64), torch.tensor(0.05, dtype=f64))
    ref = torch.eye(4, dtype=torch.float64)
    ref[:3, :3], ref[:3, 3] = R, torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64)
    off = move(gs[1], PoseNormalization(ref, torch.tensor(1.25, dtype=torch.float64)))  # another take, off by a Sim(3)
    _, naive_info = merge_chunks([gs[0], off], cams, plan, (S, S), "previous")
    assert naive_info[1].kept != 6 * 8  # unaligned, the wrong Gaussians count as new
    merged, info = merge_chunks([gs[0], off], cams, plan, (S, S), "align")
    a = info[1].alignment
    assert a["scale"] == pytest.approx(1 / 1.25, abs=1e-5)
    assert a["rms_before"] > 0.1 and a["rms_after"] < 1e-4
    assert merged.num == clean.num
    torch.testing.assert_close(merged.means, clean.means, atol=1e-4, rtol=0)
    torch.testing.assert_close(merged.scales, clean.scales, atol=1e-6, rtol=1e-5)
