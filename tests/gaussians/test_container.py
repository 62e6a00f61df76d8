"""Gaussians container: pixel-aligned construction, selection, pruning, concatenation, batching."""

import pytest
import torch

from wonderland.gaussians import Gaussians, pixel_aligned_gaussians
from wonderland.geometry import K_from_fov, look_at, ray_bundle


def random_gaussians(g: int, batch=(), k: int | None = None, seed: int = 0) -> Gaussians:
    gen = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.rand(*batch, g, *s, generator=gen)  # noqa: E731
    return Gaussians(r(3), r(4), r(3), r(), r(3), None if k is None else r(k, 3))


def test_pixel_aligned_means_lie_on_the_rays_at_the_given_distance():
    c2w = look_at(torch.tensor([1.0, 2.0, -3.0], dtype=torch.float64), torch.zeros(3, dtype=torch.float64))
    origins, dirs = ray_bundle(c2w, K_from_fov(50, 4, 6), 4, 6)  # (4, 6, 3)
    origins, dirs = origins.reshape(1, 24, 3), dirs.reshape(1, 24, 3)
    distance = torch.linspace(0.5, 3.0, 24, dtype=torch.float64)[None]
    ones = torch.ones(1, 24, dtype=torch.float64)
    rgb = ones[..., None].expand(1, 24, 3)
    quats = ones.new_tensor([1.0, 0, 0, 0]).expand(1, 24, 4)
    g = pixel_aligned_gaussians(origins, dirs, distance, rgb, 0.1 * rgb, quats, ones)
    assert g.batch_shape == (1,) and g.num == 24
    offset = g.means - torch.tensor([1.0, 2.0, -3.0], dtype=g.means.dtype)
    torch.testing.assert_close(offset.norm(dim=-1), distance)
    torch.testing.assert_close(offset / offset.norm(dim=-1, keepdim=True), dirs)  # on the ray, not behind it


def test_select_mask_and_index_agree_and_prune_keeps_exactly_the_opaque_ones():
    g = random_gaussians(10, k=2)
    mask = g.opacities >= 0.5
    by_mask, by_index = g.select(mask), g.select(mask.nonzero().squeeze(-1))
    for name in ("means", "quats", "scales", "opacities", "colors", "sh_rest"):
        torch.testing.assert_close(getattr(by_mask, name), getattr(by_index, name))
    pruned = g.prune(0.5)
    assert pruned.num == int(mask.sum()) and (pruned.opacities >= 0.5).all()
    torch.testing.assert_close(pruned.means, g.means[mask])


def test_cat_concatenates_and_pads_missing_sh_with_zeros():
    a, b = random_gaussians(3, k=4), random_gaussians(5, seed=1)
    c = Gaussians.cat([a, b])
    assert c.num == 8 and c.sh_rest.shape == (8, 4, 3)
    torch.testing.assert_close(c.means, torch.cat([a.means, b.means]))
    torch.testing.assert_close(c.sh_rest[:3], a.sh_rest)
    assert (c.sh_rest[3:] == 0).all()
    with pytest.raises(ValueError, match="degrees differ"):
        Gaussians.cat([a, random_gaussians(2, k=3)])


def test_batch_indexing_select_and_shape_checks():
    g = random_gaussians(6, batch=(2,))
    assert len(g) == 2 and g[1].batch_shape == () and g[1].num == 6
    torch.testing.assert_close(g[1].colors, g.colors[1])
    sel = g.select(torch.tensor([4, 0]))
    torch.testing.assert_close(sel.opacities, g.opacities[:, [4, 0]])
    with pytest.raises(ValueError, match="ragged"):
        g.prune(0.5)
    with pytest.raises(ValueError, match="quats"):
        Gaussians(g.means, g.quats[..., :3], g.scales, g.opacities, g.colors)
    d = g.detach().to(torch.float64)
    assert d.means.dtype == torch.float64 and not d.means.requires_grad
