"""Fréchet distance and FID (Inception-v3 pool features, 2048-d).

Weights (a local file named in config; never downloaded), either of the two standard files holding the
TF Inception-v3 graph `inception-2015-12-05`:
  - pytorch-fid's state dict `pt_inception-2015-12-05-6726825d.pth`
    (https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth),
    run by `inception.FIDInceptionV3` exactly as pytorch-fid runs it;
  - the TorchScript export that StyleGAN2-ADA / StyleGAN3 / StyleGAN-V use,
    https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/inception-2015-12-05.pt
    (fed uint8 images, resized to 299 inside, called with `return_features=True`).
The two resize differently, so FIDs from them differ slightly: report which file was used.
Without a file FID is reported unavailable: `fid` returns (None, reason).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from ..precision import full_precision
from .inception import FIDInceptionV3
from .weights import MissingWeightsError, is_torchscript, load_torchscript, read_state_dict, require_file

INCEPTION_WHERE = (
    "pytorch-fid's pt_inception-2015-12-05-6726825d.pth (github.com/mseitzer/pytorch-fid/releases) or "
    "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/inception-2015-12-05.pt"
)


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) features -> mean (D,) and unbiased covariance (D, D), float64."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"need (N >= 2, D) features for a covariance, got {features.shape}")
    return features.mean(0), np.cov(features, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)): the squared 2-Wasserstein distance of two Gaussians.

    As pytorch-fid: scipy's sqrtm; if it is not finite (singular product, e.g. fewer samples than
    dimensions) `eps` is added to both diagonals; a numerically complex root must be ~real.
    """
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1),) * 2:
        raise ValueError(f"mismatched Gaussian statistics: {mu1.shape}, {sigma1.shape}, {mu2.shape}, {sigma2.shape}")
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(mu1)) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"sqrtm has a large imaginary part: {np.abs(covmean.imag).max():.3g}")
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def frechet_distance_of_features(feats1: np.ndarray, feats2: np.ndarray) -> float:
    """Fréchet distance between the Gaussians fitted to two (N_i, D) feature sets."""
    return frechet_distance(*gaussian_stats(feats1), *gaussian_stats(feats2))


class TorchScriptInception(nn.Module):
    """The StyleGAN TorchScript detector behind the same interface: (N, 3, H, W) in [0, 1] -> (N, 2048)."""

    def __init__(self, detector: torch.jit.ScriptModule) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, images: Tensor) -> Tensor:
        return self.detector((images * 255).round().to(torch.uint8), return_features=True)


def load_inception(path: str | Path | None) -> nn.Module:
    """Frozen eval-mode Inception from either standard file (see the module docstring)."""
    path = require_file(path, "the FID Inception-v3", INCEPTION_WHERE)
    if is_torchscript(path):
        return TorchScriptInception(load_torchscript(path, "the FID Inception-v3", INCEPTION_WHERE)).eval()
    model = FIDInceptionV3()
    model.load_state_dict(read_state_dict(path), strict=True)
    return model.eval().requires_grad_(False)


@torch.no_grad()
@full_precision
def inception_features(model: nn.Module, images: Tensor, batch_size: int = 64) -> np.ndarray:
    """images (N, 3, H, W) in [0, 1] -> (N, 2048) float64 pool features.

    Quantised to 8 bits first, as saved images are and as both reference implementations read them.
    """
    device = next(iter(model.parameters()), torch.empty(0)).device
    feats = [model(((chunk.clamp(0, 1) * 255).round() / 255).to(device)).double().flatten(1).cpu()
             for chunk in images.split(batch_size)]
    return torch.cat(feats).numpy()


def fid(real: Tensor, fake: Tensor, weights_path: str | Path | None) -> tuple[float | None, str | None]:
    """FID between two image sets (N_i, 3, H, W) in [0, 1]: (value, None), or (None, why unavailable)."""
    if min(len(real), len(fake)) < 2:
        return None, f"FID needs at least 2 images per set, got {len(real)} and {len(fake)}"
    try:
        detector = load_inception(weights_path)
    except MissingWeightsError as err:
        return None, str(err)
    return frechet_distance_of_features(inception_features(detector, real), inception_features(detector, fake)), None
