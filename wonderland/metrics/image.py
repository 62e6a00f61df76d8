"""Image-similarity metrics on [0, 1] images (..., 3, H, W)."""

from __future__ import annotations

import torch
from torch import Tensor

from ..precision import full_precision


@full_precision
def psnr(pred: Tensor, target: Tensor, max_val: float = 1.0) -> Tensor:
    """Peak signal-to-noise ratio in dB per image (reduced over the last 3 dims). Shape (...)."""
    mse = (pred.float() - target.float()).pow(2).flatten(-3).mean(-1)
    return 10 * torch.log10(max_val**2 / mse.clamp_min(1e-10))


@full_precision
def ssim(pred: Tensor, target: Tensor, max_val: float = 1.0) -> Tensor:
    """Structural similarity per image (..., 3, H, W) -> (...), the standard definition.

    Gaussian window of 11 taps with sigma 1.5, K1 = 0.01, K2 = 0.03, statistics with population
    (not sample) covariance, mean over the "valid" region where the window fits (so border handling
    plays no role) and over channels: scikit-image's `structural_similarity(gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False)`, pytorch-msssim and torchmetrics agree on this.
    """
    from kornia.metrics import ssim as ssim_map

    if pred.shape != target.shape or pred.shape[-3] != 3:
        raise ValueError(f"ssim needs two (..., 3, H, W) images of one shape, got {pred.shape}, {target.shape}")
    if min(pred.shape[-2:]) < 11:
        raise ValueError(f"ssim's 11x11 window needs images of at least 11x11 pixels, got {tuple(pred.shape[-2:])}")
    lead = pred.shape[:-3]
    p, t = (x.float().reshape(-1, *x.shape[-3:]) for x in (pred, target))
    # eps=0: kornia's default denominator epsilon would bias flat images away from the reference value.
    out = ssim_map(p, t, 11, max_val=float(max_val), eps=0.0, padding="valid")  # (N, 3, H-10, W-10)
    return out.flatten(1).mean(-1).reshape(lead)
