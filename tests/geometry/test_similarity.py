"""Weighted Umeyama (Sim(3)) against scikit-image's, and known transforms recovered."""

import numpy as np
import pytest
import torch

from wonderland.geometry import axis_angle_to_matrix, is_rotation, umeyama


def _sim(scale, axis, angle, t):
    R = axis_angle_to_matrix(torch.tensor(axis, dtype=torch.float64), torch.tensor(angle, dtype=torch.float64))
    return scale, R, torch.tensor(t, dtype=torch.float64)


def test_agrees_with_scikit_image_on_noisy_points():
    skimage = pytest.importorskip("skimage.transform")
    g = torch.Generator().manual_seed(0)
    src = torch.randn(200, 3, generator=g, dtype=torch.float64)
    s, R, t = _sim(1.7, [0.2, 1.0, -0.3], 0.8, [1.0, -2.0, 0.5])
    dst = s * src @ R.T + t + 0.05 * torch.randn(200, 3, generator=g, dtype=torch.float64)
    ours = umeyama(src, dst)
    theirs = skimage.SimilarityTransform.from_estimate(src.numpy(), dst.numpy()).params
    M = ours.reference.clone()
    M[:3, :3] *= ours.scale
    np.testing.assert_allclose(M.numpy(), theirs, atol=1e-10)


def test_recovers_a_known_similarity_and_ignores_zero_weight_outliers():
    g = torch.Generator().manual_seed(1)
    src = torch.randn(50, 3, generator=g, dtype=torch.float64)
    s, R, t = _sim(0.6, [1.0, 0.0, 0.5], -1.2, [3.0, 0.0, -1.0])
    dst = s * src @ R.T + t
    w = torch.ones(50, dtype=torch.float64)
    dst[:10] += 10 * torch.randn(10, 3, generator=g, dtype=torch.float64)  # outliers ...
    w[:10] = 0  # ... that carry no weight
    fit = umeyama(src, dst, w)
    assert float(fit.scale) == pytest.approx(0.6, abs=1e-10)
    assert float(umeyama(src, dst, w, symmetric_scale=True).scale) == pytest.approx(0.6, abs=1e-10)
    torch.testing.assert_close(fit.reference[:3, :3], R, atol=1e-10, rtol=0)
    torch.testing.assert_close(fit.reference[:3, 3], t, atol=1e-10, rtol=0)
    torch.testing.assert_close(fit.points_to_world(src[10:]), dst[10:], atol=1e-10, rtol=0)
    assert float(umeyama(src, dst).scale) != pytest.approx(0.6, abs=1e-3)  # unweighted, the outliers pull


def test_a_mirrored_cloud_still_gives_a_rotation():
    g = torch.Generator().manual_seed(2)
    src = torch.randn(30, 3, generator=g, dtype=torch.float64)
    dst = src * torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64)  # a reflection: no rotation fits exactly
    fit = umeyama(src, dst)
    assert bool(is_rotation(fit.reference[:3, :3]))


def test_symmetric_scale_is_not_diluted_by_noise_on_both_sides():
    g = torch.Generator().manual_seed(3)
    scene = torch.randn(4000, 3, generator=g, dtype=torch.float64)
    src = scene + 0.5 * torch.randn(4000, 3, generator=g, dtype=torch.float64)  # two noisy takes of one scene
    dst = 1.5 * (scene + 0.5 * torch.randn(4000, 3, generator=g, dtype=torch.float64))
    assert float(umeyama(src, dst).scale) < 1.3  # ~1.5 / (1 + 0.5^2): regression dilution
    assert float(umeyama(src, dst, symmetric_scale=True).scale) == pytest.approx(1.5, rel=0.03)
