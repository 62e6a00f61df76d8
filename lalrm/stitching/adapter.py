"""What a pretrained RGB feed-forward 3D model must expose to be stitched onto the video latents.

An adapter is an `nn.Module` class with the methods of `Stitchable` and two constructors in diffusers' names:
`from_pretrained(path)` (the pretrained weights) and `from_config(config)` (the architecture alone; a stitched
decoder rebuilds it from the `stitch_config()` saved in its own config, then loads its weights). It is named in
configs by a registry key (`ADAPTERS`) or by an import path `package.module:Class`, so an external model needs no
edit here. The one adapter that runs in this repository is `rgb_lrm` (`lalrm.stitching.rgb_lrm.RGBLRM`).

Shapes: frames (B, F, 3, H, W) in [0, 1]; cameras `Cameras` (B, F) at (H, W), poses relative to frame 0 and
scale-normalised as everywhere in the project; a layer's activation grid (B, C, T', h', w'), the layout the
stitching conv produces. Outputs are a dict of named tensors (B, ...), the targets of the label-free fine-tune.
"""

from __future__ import annotations

import importlib
from typing import Protocol, runtime_checkable

from torch import Tensor

from wonderland.gaussians import Gaussians
from wonderland.geometry import Cameras

ADAPTERS = {"rgb_lrm": "lalrm.stitching.rgb_lrm:RGBLRM"}
METHODS = ("stitch_config", "candidate_layers", "rgb_size", "layer_grid", "layer_to_grid", "forward_rgb",
           "forward_from", "to_gaussians", "prune_before", "lora_targets", "extra_trainable")


@runtime_checkable
class Stitchable(Protocol):
    output_names: tuple[str, ...]  # the keys of forward_rgb / forward_from's dict

    def stitch_config(self) -> dict:
        """JSON-able constructor arguments: `from_config(stitch_config())` rebuilds the architecture."""

    def candidate_layers(self) -> list[str]:
        """Module names (as `named_modules` gives them) that may be cut, shallow to deep: the encoder's layers."""

    def rgb_size(self, height: int, width: int) -> tuple[int, int]:
        """Frame size this model reads when the VAE reads (height, width) (AnySplat: 448 for the VAE's 512)."""

    def layer_grid(self, layer: str, num_frames: int, height: int, width: int) -> tuple[int, int, int, int]:
        """(C, T', h', w') of `layer`'s activations for a (num_frames, height, width) video (VAE size)."""

    def layer_to_grid(self, layer: str, output, num_frames: int, height: int, width: int) -> Tensor:
        """What a forward hook on `layer` receives -> (B, C, T', h', w')."""

    def forward_rgb(self, frames: Tensor, cameras: Cameras) -> dict[str, Tensor]:
        """The original model on frames at `rgb_size` -> its outputs."""

    def forward_from(self, layer: str, activation: Tensor, cameras: Cameras) -> dict[str, Tensor]:
        """Enter after `layer` with its activations (B, C, T', h', w') -> the same outputs as `forward_rgb`."""

    def to_gaussians(self, outputs: dict[str, Tensor]) -> Gaussians:
        """Outputs -> the project's `Gaussians` (B, G) in the cameras' (normalised) world frame."""

    def prune_before(self, layer: str) -> None:
        """Drop the modules that only run up to `layer` (the stitched decoder does not carry them)."""

    def lora_targets(self, layer: str) -> list[str]:
        """Names of the Linear/Conv modules that still run after `layer`: where peft puts LoRA."""

    def extra_trainable(self, layer: str) -> list[str]:
        """Parameter-name prefixes trained in full besides the LoRA (VIST3A: AnySplat's register and class
        tokens; here: layers peft cannot wrap)."""


def adapter_class(name: str) -> type:
    """A registry key or `package.module:Class` -> the adapter class (ValueError naming what is known)."""
    target = ADAPTERS.get(name, name)
    if ":" not in target:
        raise ValueError(f"unknown adapter {name!r}; expected one of {', '.join(ADAPTERS)} or package.module:Class")
    module, _, cls = target.partition(":")
    try:
        found = getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"adapter {name!r}: cannot import {target} ({e})") from None
    missing = [m for m in ("from_pretrained", "from_config", *METHODS) if not hasattr(found, m)]
    if missing:
        raise ValueError(f"adapter {name!r} ({target}) lacks {', '.join(sorted(missing))}")
    return found
