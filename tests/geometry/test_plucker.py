import torch

from wonderland.geometry import make_K, plucker_embedding, ray_bundle
from wonderland.geometry.rotations import axis_angle_to_matrix


def random_cameras(n: int, gen: torch.Generator):
    R = axis_angle_to_matrix(torch.randn(n, 3, generator=gen, dtype=torch.float64),
                             torch.rand(n, generator=gen, dtype=torch.float64) * 3)
    c2w = torch.eye(4, dtype=torch.float64).repeat(n, 1, 1)
    c2w[:, :3, :3], c2w[:, :3, 3] = R, torch.randn(n, 3, generator=gen, dtype=torch.float64)
    K = make_K(torch.rand(n, dtype=torch.float64) * 50 + 20, torch.rand(n, dtype=torch.float64) * 50 + 20, 16.0, 12.0)
    return c2w, K


def test_known_value_from_spec():
    c2w = torch.eye(4, dtype=torch.float64)
    c2w[:3, 3] = torch.tensor([1.0, 2.0, 3.0])
    pl = plucker_embedding(c2w, make_K(2.0, 2.0, 2.0, 1.5), height=3, width=4)
    assert pl.shape == (6, 3, 4)
    expected = torch.tensor([2.599735, -2.414039, 0.742781, -0.557086, -0.371391, 0.742781], dtype=torch.float64)
    torch.testing.assert_close(pl[:, 0, 0], expected, atol=1e-6, rtol=0)


def test_direction_unit_and_orthogonal_to_moment():
    gen = torch.Generator().manual_seed(0)
    c2w, K = random_cameras(5, gen)
    pl = plucker_embedding(c2w, K, 24, 32)  # (5, 6, 24, 32)
    m, d = pl[:, :3], pl[:, 3:]
    torch.testing.assert_close(d.norm(dim=1), torch.ones(5, 24, 32, dtype=torch.float64))
    assert (m * d).sum(1).abs().max() < 1e-12


def test_moment_invariant_to_sliding_origin_along_ray():
    gen = torch.Generator().manual_seed(1)
    c2w, K = random_cameras(3, gen)
    o, d = ray_bundle(c2w, K, 6, 8)
    m = torch.linalg.cross(o, d)
    slid = o + 3.7 * d
    torch.testing.assert_close(torch.linalg.cross(slid, d), m)


def test_pixel_centre_ray_reprojects_to_that_pixel():
    # The ray of pixel (row 2, col 5) passes through (u, v) = (5.5, 2.5) of the image.
    gen = torch.Generator().manual_seed(2)
    c2w, K = random_cameras(1, gen)
    o, d = ray_bundle(c2w, K, 6, 8)
    point = o[0, 2, 5] + 2.0 * d[0, 2, 5]
    cam = torch.linalg.inv(c2w[0]) @ torch.cat([point, torch.ones(1, dtype=point.dtype)])
    uv = (K[0] @ cam[:3])[:2] / cam[2]
    torch.testing.assert_close(uv, torch.tensor([5.5, 2.5], dtype=torch.float64))
