"""Fréchet distance known values; FID / FVD plumbing through TorchScript detectors saved in the test."""

import math
import warnings

import numpy as np
import pytest
import torch
from torch import Tensor

from wonderland.metrics.fid import fid, frechet_distance, frechet_distance_of_features, gaussian_stats
from wonderland.metrics.fvd import fvd


def test_one_dimensional_and_diagonal_known_values():
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2 with standard deviations s.
    assert frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([3.0]), np.array([[9.0]])) == \
        pytest.approx(4 + 1, abs=1e-9)
    a, b = np.array([1.0, 4.0, 0.25]), np.array([4.0, 1.0, 0.25])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = 1 + 4 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)  # = 5 + 1 + 1
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, abs=1e-9)
    # Rotating both covariances by the same orthogonal Q changes nothing.
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    assert frechet_distance(Q @ mu1, Q @ np.diag(a) @ Q.T, Q @ mu2, Q @ np.diag(b) @ Q.T) == \
        pytest.approx(expected, abs=1e-8)


def test_non_commuting_covariances_closed_form():
    # 2x2: tr sqrt(S1 S2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)), since S1 S2 has eigenvalues >= 0.
    s1, s2 = np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([[1.0, 0.0], [0.0, 4.0]])
    tr_sqrt = math.sqrt(10 + 2 * math.sqrt(3 * 4))
    expected = 4 + 5 - 2 * tr_sqrt  # = 0.77122...
    assert frechet_distance(np.zeros(2), s1, np.zeros(2), s2) == pytest.approx(expected, abs=1e-9)
    assert frechet_distance(np.zeros(2), s2, np.zeros(2), s1) == pytest.approx(expected, abs=1e-9)
    assert frechet_distance(np.ones(2), s1, np.ones(2), s1) == pytest.approx(0, abs=1e-9)


def test_sampled_features_approach_the_analytic_distance():
    gen = np.random.default_rng(1)
    L1, L2 = gen.normal(size=(4, 4)), gen.normal(size=(4, 4))
    s1, s2 = L1 @ L1.T + np.eye(4), L2 @ L2.T + np.eye(4)
    mu1, mu2 = np.zeros(4), np.array([1.0, -1.0, 0.5, 0.0])
    f1 = gen.multivariate_normal(mu1, s1, size=40000)
    f2 = gen.multivariate_normal(mu2, s2, size=40000)
    exact = frechet_distance(mu1, s1, mu2, s2)
    assert frechet_distance_of_features(f1, f2) == pytest.approx(exact, rel=0.03)
    # Fewer samples than dimensions: singular covariances still give a finite distance.
    assert np.isfinite(frechet_distance_of_features(gen.normal(size=(3, 8)), gen.normal(size=(3, 8))))
    with pytest.raises(ValueError, match="N >= 2"):
        gaussian_stats(np.zeros((1, 4)))


class TinyInception(torch.nn.Module):
    """Stands in for the TorchScript Inception: uint8 in, per-image channel mean/std/max out."""

    def forward(self, img: Tensor, return_features: bool = False) -> Tensor:
        assert img.dtype == torch.uint8 and return_features
        x = img.float()
        return torch.cat([x.mean((2, 3)), x.std((2, 3)), x.amax((2, 3))], 1)


class TinyI3D(torch.nn.Module):
    """Stands in for StyleGAN-V's I3D: (N, 3, T, 224, 224) in [-1, 1] in, channel and motion stats out."""

    def forward(self, x: Tensor, rescale: bool = False, resize: bool = False, return_features: bool = False):
        assert x.shape[1] == 3 and x.shape[-2:] == (224, 224) and not rescale and not resize and return_features
        assert float(x.min()) >= -1 and float(x.max()) <= 1
        motion = (x[:, :, 1:] - x[:, :, :-1]).abs().mean((2, 3, 4))
        return torch.cat([x.mean((2, 3, 4)), x.std((2, 3, 4)), motion], 1)


def save_script(module: torch.nn.Module, path) -> str:
    with warnings.catch_warnings():  # TorchScript is what the published detectors are
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(module).save(str(path))
    return str(path)


def test_fid_plumbing_matches_hand_features(tmp_path, rng):
    path = save_script(TinyInception(), tmp_path / "inception.pt")
    real = torch.rand(12, 3, 16, 24, generator=rng)
    fake = (real * 0.7 + 0.2 * torch.rand(12, 3, 16, 24, generator=rng)).clamp(0, 1)
    value, reason = fid(real, fake, path)
    assert reason is None
    u8 = [(x * 255).round() for x in (real, fake)]
    hand = [torch.cat([x.mean((2, 3)), x.std((2, 3)), x.amax((2, 3))], 1).double().numpy() for x in u8]
    assert value == pytest.approx(frechet_distance_of_features(*hand), rel=1e-6)
    assert value > 1.0
    assert fid(real, real, path)[0] == pytest.approx(0, abs=1e-6)


@pytest.mark.filterwarnings("ignore:Matrix is singular")  # static clips: zero motion features
def test_fvd_plumbing_sees_motion(tmp_path, rng):
    path = save_script(TinyI3D(), tmp_path / "i3d.pt")
    base = torch.rand(6, 1, 3, 32, 48, generator=rng)
    static = base.expand(6, 8, 3, 32, 48)
    noisy = (static + 0.2 * torch.randn(6, 8, 3, 32, 48, generator=rng)).clamp(0, 1)
    value, reason = fvd(static, noisy, path)
    assert reason is None and value > 0.01
    assert fvd(static, static, path)[0] == pytest.approx(0, abs=1e-6)


def test_missing_weights_make_the_metric_unavailable(tmp_path, rng):
    x = torch.rand(4, 3, 16, 16, generator=rng)
    value, reason = fid(x, x, None)
    assert value is None and "inception-2015-12-05" in reason
    value, reason = fvd(x[:, None].expand(4, 4, 3, 16, 16), x[:, None].expand(4, 4, 3, 16, 16), tmp_path / "no.pt")
    assert value is None and "not found" in reason and "i3d_torchscript" in reason
    assert fid(x[:1], x, None)[0] is None
