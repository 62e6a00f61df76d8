"""Image and camera metrics (each a pure, tested function)."""

from .image import psnr, ssim
from .nets import FeatureNet, load_feature_net

__all__ = ["FeatureNet", "load_feature_net", "psnr", "ssim"]
