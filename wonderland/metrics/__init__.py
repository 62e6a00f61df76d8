"""Image, perceptual, distribution and camera metrics (each a pure, tested function).

Metrics that need pretrained networks (LPIPS, FID, FVD) load them from local files named in config
and are reported unavailable (None + reason) without them, never computed with random weights.
"""

from .camera import camera_errors
from .config import MetricNets, MetricWeights, load_metric_nets
from .fid import (
    fid,
    frechet_distance,
    frechet_distance_of_features,
    gaussian_stats,
    inception_features,
    load_inception,
)
from .fvd import fvd, i3d_features, load_i3d
from .image import psnr, ssim
from .inception import FIDInceptionV3
from .lpips import LPIPS, load_lpips, lpips_or_reason
from .nets import FeatureNet, load_feature_net
from .weights import MissingWeightsError

__all__ = [
    "FIDInceptionV3",
    "LPIPS",
    "MetricNets",
    "MetricWeights",
    "FeatureNet",
    "MissingWeightsError",
    "camera_errors",
    "fid",
    "frechet_distance",
    "frechet_distance_of_features",
    "fvd",
    "gaussian_stats",
    "i3d_features",
    "inception_features",
    "load_feature_net",
    "load_i3d",
    "load_inception",
    "load_lpips",
    "load_metric_nets",
    "lpips_or_reason",
    "psnr",
    "ssim",
]
