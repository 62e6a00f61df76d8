"""Image-similarity metrics on [0, 1] images (..., 3, H, W)."""

from __future__ import annotations

import torch
from torch import Tensor


def psnr(pred: Tensor, target: Tensor, max_val: float = 1.0) -> Tensor:
    """Peak signal-to-noise ratio in dB per image (reduced over the last 3 dims). Shape (...)."""
    mse = (pred.float() - target.float()).pow(2).flatten(-3).mean(-1)
    return 10 * torch.log10(max_val**2 / mse.clamp_min(1e-10))
