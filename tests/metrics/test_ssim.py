"""SSIM agrees with scikit-image's Gaussian SSIM (the standard definition) to 1e-4."""

import math

import pytest
import torch
from skimage.metrics import structural_similarity

from wonderland.metrics import psnr, ssim


def reference_ssim(pred: torch.Tensor, target: torch.Tensor) -> float:
    return structural_similarity(
        pred.double().numpy(), target.double().numpy(), gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, data_range=1.0, channel_axis=0,
    )


def structured(h: int, w: int, gen: torch.Generator) -> torch.Tensor:
    """Gradients, stripes, a checkerboard and a disc: edges and flat areas, not just noise. (3, H, W)"""
    y, x = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    checker = ((torch.arange(h)[:, None] // 6 + torch.arange(w)[None] // 6) % 2).float()
    disc = ((x - 0.6) ** 2 + (y - 0.4) ** 2 < 0.05).float()
    img = torch.stack([x, 0.5 + 0.5 * torch.sin(12 * y), 0.6 * checker + 0.4 * disc])
    return (img + 0.02 * torch.randn(3, h, w, generator=gen)).clamp(0, 1)


def test_random_images_match_skimage(rng):
    pred, target = torch.rand(2, 3, 40, 56, generator=rng).unbind(0)
    correlated = (0.7 * target + 0.3 * pred).clamp(0, 1)
    for a, b in ((pred, target), (correlated, target)):
        assert ssim(a, b).item() == pytest.approx(reference_ssim(a, b), abs=1e-4)


def test_structured_images_match_skimage(rng):
    target = structured(64, 96, rng)
    blurred = torch.nn.functional.avg_pool2d(target[None], 3, 1, 1, count_include_pad=False)[0]
    noisy = (target + 0.1 * torch.randn(target.shape, generator=rng)).clamp(0, 1)
    shifted = torch.roll(target, shifts=(2, -3), dims=(1, 2))
    darker = 0.6 * target
    values = []
    for pred in (blurred, noisy, shifted, darker):
        values.append(ssim(pred, target).item())
        assert values[-1] == pytest.approx(reference_ssim(pred, target), abs=1e-4)
    assert all(v < 0.99 for v in values)  # each distortion is visible


def test_batch_shape_identity_and_symmetry(rng):
    a = torch.rand(2, 3, 3, 32, 32, generator=rng)  # (B, F, 3, H, W)
    b = torch.rand(2, 3, 3, 32, 32, generator=rng)
    s = ssim(a, b)
    assert s.shape == (2, 3)
    torch.testing.assert_close(s, ssim(b, a))
    torch.testing.assert_close(ssim(a, a), torch.ones(2, 3))
    assert s[1, 2].item() == pytest.approx(reference_ssim(a[1, 2], b[1, 2]), abs=1e-4)
    flat = torch.full((3, 16, 16), 0.3)  # a flat image against itself: exactly 1 (no eps bias)
    assert ssim(flat, flat).item() == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="11x11"):
        ssim(flat[:, :10], flat[:, :10])


def test_psnr_known_values():
    target = torch.zeros(2, 3, 4, 4)
    pred = target.clone()
    pred[0] += 0.1  # MSE 0.01 -> 20 dB
    pred[1, :, :2] = 1.0  # half the pixels off by 1 -> MSE 0.5 -> 10 log10(2)
    torch.testing.assert_close(psnr(pred, target), torch.tensor([20.0, 10 * math.log10(2)]))
    torch.testing.assert_close(psnr(target, target), torch.full((2,), 100.0))  # MSE floor 1e-10
