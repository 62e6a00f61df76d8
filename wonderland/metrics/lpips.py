"""LPIPS v0.1 (Zhang et al. 2018) with VGG-16 or AlexNet trunks, on [0, 1] images.

distance = sum over the 5 tapped layers l of mean_{h,w} w_l . (n(f_l(x)) - n(f_l(y)))^2, with n the
unit-norm over channels (eps 1e-10) and w_l a learned non-negative 1x1 conv (`lin{l}.model.1.weight`,
(1, C_l, 1, 1), after a Dropout that is inactive in eval). The trunk input is ImageNet-normalised,
which is LPIPS's ScalingLayer on [-1, 1] inputs written for [0, 1].

Weights (local files, named in config; never downloaded):
  - linear heads: `lpips/weights/v0.1/{vgg,alex}.pth` from https://github.com/richzhang/PerceptualSimilarity
    (also shipped in the `lpips` PyPI package);
  - trunk: torchvision's ImageNet `vgg16-397923af.pth` / `alexnet-owt-7be5be79.pth`, or any checkpoint
    `load_feature_net` reads. A full LPIPS state dict (`net.sliceN.*` + `lin*`) may serve as both files.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from ..precision import full_precision
from .nets import FeatureNet, load_feature_net, trunk_state_dict
from .weights import MissingWeightsError, read_state_dict, require_file

TRUNKS = {"vgg": "vgg16", "alex": "alexnet"}
_WHERE_HEADS = ("the LPIPS v0.1 linear heads, lpips/weights/v0.1/<net>.pth in "
                "https://github.com/richzhang/PerceptualSimilarity (or the `lpips` PyPI package)")


class NetLinLayer(nn.Module):
    """LPIPS's per-layer head; `model.1.weight` is the official key."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2d(channels, 1, kernel_size=1, bias=False))
        with torch.no_grad():  # LPIPS heads are trained non-negative (a distance); keep that when untrained
            self.model[1].weight.abs_()

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


def _unit_normalize(x: Tensor, eps: float = 1e-10) -> Tensor:
    return x / (x.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)


class LPIPS(nn.Module):
    """LPIPS distance; state-dict keys `net.<torchvision idx>.*` and `lin{0..4}.model.1.weight`."""

    def __init__(self, net: str = "vgg") -> None:
        super().__init__()
        if net not in TRUNKS:
            raise ValueError(f"unknown LPIPS net {net!r}; expected one of {tuple(TRUNKS)}")
        self.net = FeatureNet(TRUNKS[net])
        self.layers = self.net.default_layers
        for i, layer in enumerate(self.layers):
            self.add_module(f"lin{i}", NetLinLayer(self.net.channels(layer)))

    @full_precision  # a metric: the same value whatever autocast surrounds it
    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """pred, target: (..., 3, H, W) in [0, 1] -> LPIPS per image (...)."""
        lead = pred.shape[:-3]
        x = torch.cat([pred.reshape(-1, *pred.shape[-3:]), target.reshape(-1, *target.shape[-3:])])
        feats = self.net(x, self.layers)
        n = x.shape[0] // 2
        total = x.new_zeros(n)
        for i, f in enumerate(feats.values()):
            diff = (_unit_normalize(f[:n]) - _unit_normalize(f[n:])).pow(2)  # (N, C_l, H_l, W_l)
            total = total + getattr(self, f"lin{i}")(diff).mean(dim=(1, 2, 3))
        return total.reshape(lead)


def _head_state(state: dict[str, Tensor]) -> dict[str, Tensor]:
    return {k: v for k, v in state.items() if k.startswith("lin") and not k.startswith("lins.")}


def load_lpips(
    net: str = "vgg",
    heads_path: str | Path | None = None,
    backbone_path: str | Path | None = None,
    allow_random: bool = False,
) -> LPIPS:
    """A frozen eval-mode LPIPS with heads and trunk loaded strictly from local files.

    `backbone_path` may be omitted when `heads_path` is a full LPIPS checkpoint holding the trunk too.
    With neither file and `allow_random=True` the whole network is random (plumbing tests only).
    Missing files raise `MissingWeightsError`.
    """
    model = LPIPS(net)
    if heads_path is None and backbone_path is None and allow_random:
        warnings.warn(f"LPIPS-{net} has RANDOM weights (allow_random=True)", stacklevel=2)
        return model.eval().requires_grad_(False)
    heads = read_state_dict(require_file(heads_path, f"LPIPS-{net}", _WHERE_HEADS.replace("<net>", net)))
    if backbone_path is not None:
        trunk = load_feature_net(TRUNKS[net], backbone_path).state_dict()
    elif any(".slice" in k or k.startswith("net.") for k in heads):
        trunk = trunk_state_dict({k.removeprefix("net."): v for k, v in heads.items() if k.startswith("net.")})
    else:
        raise MissingWeightsError(
            f"LPIPS-{net}: the heads file {heads_path} holds no trunk; also configure the torchvision "
            f"ImageNet {TRUNKS[net]} checkpoint as the backbone weights"
        )
    model.load_state_dict({**_head_state(heads), **{f"net.{k}": v for k, v in trunk.items()}}, strict=True)
    return model.eval().requires_grad_(False)


def lpips_or_reason(
    net: str, heads_path: str | Path | None, backbone_path: str | Path | None = None
) -> tuple[LPIPS | None, str | None]:
    """(model, None) when the weights load, else (None, why): the metric is reported as unavailable."""
    try:
        return load_lpips(net, heads_path, backbone_path), None
    except MissingWeightsError as err:
        return None, str(err)
