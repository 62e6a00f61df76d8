"""Image, perceptual, distribution and camera metrics (each a pure, tested function)."""

from .camera import camera_errors
from .image import psnr, ssim
from .lpips import LPIPS, load_lpips, lpips_or_reason
from .nets import FeatureNet, load_feature_net
from .weights import MissingWeightsError

__all__ = [
    "LPIPS",
    "FeatureNet",
    "MissingWeightsError",
    "camera_errors",
    "load_feature_net",
    "load_lpips",
    "lpips_or_reason",
    "psnr",
    "ssim",
]
