"""Which local weight files the metric networks load (the `metrics` part of an eval config).

Every path may be left empty: that metric is then reported unavailable with the reason, and the
others still run. Where to get each file is in the docstrings of lpips.py, fid.py and fvd.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .fid import load_inception
from .fvd import load_i3d
from .lpips import LPIPS, load_lpips
from .weights import MissingWeightsError


@dataclass
class MetricWeights:
    lpips_net: str = "vgg"  # "vgg" (the paper's tables) or "alex"
    lpips_heads: str | None = None  # LPIPS v0.1 linear heads, lpips/weights/v0.1/<net>.pth
    lpips_backbone: str | None = None  # torchvision ImageNet vgg16 / alexnet checkpoint
    inception: str | None = None  # pytorch-fid .pth or StyleGAN TorchScript .pt (FID)
    i3d: str | None = None  # StyleGAN-V i3d_torchscript.pt (FVD)


@dataclass
class MetricNets:
    lpips: LPIPS | None = None
    inception: nn.Module | None = None
    i3d: nn.Module | None = None
    unavailable: dict[str, str] = field(default_factory=dict)  # metric name -> reason


def load_metric_nets(weights: MetricWeights, device: str | torch.device = "cpu") -> MetricNets:
    """Load what is configured; collect a reason for every metric that cannot be computed."""
    nets = MetricNets()
    loaders = {
        "lpips": lambda: load_lpips(weights.lpips_net, weights.lpips_heads, weights.lpips_backbone),
        "inception": lambda: load_inception(weights.inception),
        "i3d": lambda: load_i3d(weights.i3d),
    }
    metric_of = {"lpips": "lpips", "inception": "fid", "i3d": "fvd"}
    for name, load in loaders.items():
        try:
            setattr(nets, name, load().to(device))
        except MissingWeightsError as err:
            nets.unavailable[metric_of[name]] = str(err)
    return nets
