"""Rays -> cameras: random cameras come back from their Plücker maps; a corrupted map is flagged."""

import torch

from wonderland.geometry import cameras_from_plucker, geodesic_angle, make_K, plucker_embedding
from wonderland.geometry.rotations import axis_angle_to_matrix


def random_cameras(n: int, h: int, w: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    R = axis_angle_to_matrix(torch.randn(n, 3, generator=gen, dtype=torch.float64),
                             torch.rand(n, generator=gen, dtype=torch.float64) * 3)
    c2w = torch.eye(4, dtype=torch.float64).repeat(n, 1, 1)
    c2w[:, :3, :3], c2w[:, :3, 3] = R, torch.randn(n, 3, generator=gen, dtype=torch.float64) * 3
    fx = torch.rand(n, generator=gen, dtype=torch.float64) * 1.5 * w + 0.4 * w
    fy = fx * (0.8 + 0.4 * torch.rand(n, generator=gen, dtype=torch.float64))
    return c2w, make_K(fx, fy, w / 2, h / 2)


def test_random_cameras_recovered_from_their_maps():
    h, w = 12, 20  # latent-resolution-like grid, non-square
    c2w, K = random_cameras(64, h, w, seed=0)
    cams, residual = cameras_from_plucker(plucker_embedding(c2w, K, h, w))
    assert geodesic_angle(cams.c2w[:, :3, :3], c2w[:, :3, :3]).max() < 1e-4
    assert (cams.centers - c2w[:, :3, 3]).norm(dim=-1).max() < 1e-4
    assert ((cams.K[:, :2, :2] - K[:, :2, :2]).abs() / K[:, :1, :1]).max() < 1e-4
    assert residual.max() < 1e-6


def test_scaled_directions_and_float32_input_still_fit():
    # A network's rays are not unit: both halves scaled by the same per-pixel factor is the same ray.
    h, w = 8, 8
    c2w, K = random_cameras(8, h, w, seed=1)
    pl = plucker_embedding(c2w, K, h, w)
    pl = pl * (0.5 + torch.rand(8, 1, h, w, dtype=torch.float64))
    cams, residual = cameras_from_plucker(pl.float())
    assert geodesic_angle(cams.c2w[:, :3, :3], c2w[:, :3, :3]).max() < 1e-3
    assert (cams.centers - c2w[:, :3, 3]).norm(dim=-1).max() < 1e-3
    assert residual.max() < 1e-5


def test_corrupted_map_has_a_large_residual():
    h, w = 12, 20
    c2w, K = random_cameras(16, h, w, seed=2)
    pl = plucker_embedding(c2w, K, h, w)
    _, clean = cameras_from_plucker(pl)
    gen = torch.Generator().manual_seed(3)
    noisy = pl + 0.3 * torch.randn(pl.shape, generator=gen, dtype=pl.dtype)
    _, bad_noise = cameras_from_plucker(noisy)
    # Two cameras' rays stitched into one map: every half is a perfect camera, the whole is none.
    stitched = torch.cat([pl[:8, :, :, : w // 2], pl[8:, :, :, w // 2:]], -1)
    _, bad_stitch = cameras_from_plucker(stitched)
    assert clean.max() < 1e-6
    assert bad_noise.min() > 0.1
    assert bad_stitch.min() > 0.05
