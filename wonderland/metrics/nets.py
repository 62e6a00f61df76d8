"""Pretrained-backbone feature extractors (VGG-16, VGG-19, AlexNet) for LPIPS and perceptual losses.

Each `FeatureNet` *is* an `nn.Sequential` with exactly the layout of torchvision's `vgg16().features`,
`vgg19().features` or `alexnet().features`, so its state-dict keys are `0.weight`, `0.bias`, `2.weight`, ...
and a checkpoint saved from torchvision (`torch.save(model.features.state_dict())`, the whole model's
`state_dict()` with a `features.` prefix, or LPIPS's `net.sliceN.<idx>` layout) loads strictly.
torchvision itself is not needed (nor installed on CPU machines).

Inputs are images in [0, 1], (B, 3, H, W); ImageNet normalisation happens inside. This is the same affine
map as LPIPS's ScalingLayer on [-1, 1] inputs (shift = 2 * mean - 1, scale = 2 * std).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from .weights import read_state_dict, require_file

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Conv widths per block ("M" = 2x2 max pool), torchvision's configs "D" (VGG-16) and "E" (VGG-19).
_VGG_CFG = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}
# The layers LPIPS (and most perceptual losses) tap.
DEFAULT_LAYERS = {
    "vgg16": ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"),
    "vgg19": ("relu1_2", "relu2_2", "relu3_4", "relu4_4", "relu5_4"),
    "alexnet": ("relu1", "relu2", "relu3", "relu4", "relu5"),
}
ARCHS = tuple(DEFAULT_LAYERS)


def _vgg_layers(arch: str) -> tuple[list[nn.Module], list[str]]:
    modules: list[nn.Module] = []
    names: list[str] = []
    block, conv, in_ch = 1, 0, 3
    for v in _VGG_CFG[arch]:
        if v == "M":
            modules.append(nn.MaxPool2d(kernel_size=2, stride=2))
            names.append(f"pool{block}")
            block, conv = block + 1, 0
        else:
            conv += 1
            modules += [nn.Conv2d(in_ch, v, kernel_size=3, padding=1), nn.ReLU(inplace=False)]
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
            in_ch = v
    return modules, names


def _alexnet_layers() -> tuple[list[nn.Module], list[str]]:
    modules = [
        nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=False),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=False),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=False),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=False),
        nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=False),
        nn.MaxPool2d(kernel_size=3, stride=2),
    ]
    names = ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "conv3", "relu3",
             "conv4", "relu4", "conv5", "relu5", "pool5"]
    return modules, names


class FeatureNet(nn.Sequential):
    """torchvision-layout `features` trunk that returns activations at named layers.

    Layer names: VGG `conv{block}_{i}`, `relu{block}_{i}`, `pool{block}`; AlexNet `conv{i}`, `relu{i}`,
    `pool{1,2,5}`. The forward pass stops after the deepest requested layer.
    """

    def __init__(self, arch: str) -> None:
        if arch not in ARCHS:
            raise ValueError(f"unknown feature net {arch!r}; expected one of {ARCHS}")
        modules, names = _alexnet_layers() if arch == "alexnet" else _vgg_layers(arch)
        super().__init__(*modules)
        self.arch = arch
        self.layer_index = {name: i for i, name in enumerate(names)}
        # Non-persistent: the state dict stays exactly torchvision's.
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(3, 1, 1), persistent=False)

    @property
    def default_layers(self) -> tuple[str, ...]:
        return DEFAULT_LAYERS[self.arch]

    def channels(self, layer: str) -> int:
        """Channel count of the activation at `layer`."""
        for m in reversed(list(self)[: self.layer_index[layer] + 1]):
            if isinstance(m, nn.Conv2d):
                return m.out_channels
        raise AssertionError("every named layer follows a conv")

    def forward(self, x: Tensor, layers: tuple[str, ...] | list[str] | None = None) -> dict[str, Tensor]:
        """x: (B, 3, H, W) in [0, 1] -> {layer: (B, C_l, H_l, W_l)} in the order of `layers`."""
        layers = tuple(layers) if layers is not None else self.default_layers
        unknown = [name for name in layers if name not in self.layer_index]
        if unknown:
            raise KeyError(f"{self.arch} has no layer(s) {unknown}; known: {list(self.layer_index)}")
        wanted = {self.layer_index[name]: name for name in layers}
        h = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        out: dict[str, Tensor] = {}
        for i, module in enumerate(self):
            h = module(h)
            if i in wanted:
                out[wanted[i]] = h
            if i == max(wanted):
                break
        return {name: out[name] for name in layers}


_LPIPS_SLICE = re.compile(r"^(?:net\.)?slice\d+\.(\d+\.(?:weight|bias))$")


def trunk_state_dict(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Keep the `features` trunk of a torchvision model / LPIPS checkpoint, keyed like `features`."""
    if any(k.startswith("features.") for k in state):
        return {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    sliced = {m.group(1): v for k, v in state.items() if (m := _LPIPS_SLICE.match(k))}
    return sliced or dict(state)


def load_feature_net(arch: str, weights_path: str | Path | None, allow_random: bool = False) -> FeatureNet:
    """A frozen, eval-mode `FeatureNet` with weights from `weights_path` (loaded strictly).

    Without a weights file this raises `MissingWeightsError` (a FileNotFoundError), because features of
    a random network are not the metric or loss anyone asked for; `allow_random=True` (tests, plumbing)
    builds it with random weights and warns.
    """
    net = FeatureNet(arch)
    if weights_path is None and allow_random:
        warnings.warn(f"{arch} feature net has RANDOM weights (allow_random=True)", stacklevel=2)
    else:
        where = (f"torchvision's ImageNet {arch} checkpoint (e.g. the hub file {arch}-*.pth); "
                 "allow_random=True is for plumbing tests only")
        path = require_file(weights_path, f"the {arch} feature net", where)
        net.load_state_dict(trunk_state_dict(read_state_dict(path)), strict=True)
    return net.eval().requires_grad_(False)
