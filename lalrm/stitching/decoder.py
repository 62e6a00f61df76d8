"""`StitchedDecoder`: video latents -> the stitching layer -> a pretrained 3D model's layers after k* -> Gaussians.

A latent 3D decoder like the LaLRM (same call: `decoder(latents, cameras).gaussians`), so `WonderlandPipeline`
takes it in the LaLRM's place (`lalrm.decoders.load_decoder` reads the folder's `_class_name`). A diffusers
model: its config is (adapter, the 3D model's own config, the layer, the stitching spec); `save_pretrained` /
`from_pretrained` rebuild the 3D model's architecture from that config, pruned before the layer, and load the
stitching conv and the kept layers' weights. Nothing of the 3D model before the layer is stored. peft LoRA is
added through diffusers' `PeftAdapterMixin` (as on diffusers' own transformers) for the fine-tune.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.loaders import PeftAdapterMixin
from diffusers.models.modeling_utils import ModelMixin
from torch import Tensor, nn

from wonderland.gaussians import Gaussians
from wonderland.geometry import Cameras
from wonderland.latents import LATENT_CHANNELS, SPATIAL_COMPRESSION

from .adapter import adapter_class
from .layer import StitchingLayer, parse_stitch_spec, upsampled_frames


@dataclass
class StitchedOutput:
    gaussians: Gaussians  # (B, G)
    outputs: dict[str, Tensor]  # the 3D model's named outputs (what the fine-tune compares with the original's)


class StitchedDecoder(ModelMixin, ConfigMixin, PeftAdapterMixin):
    _supports_gradient_checkpointing = True

    @register_to_config
    def __init__(self, adapter: str = "rgb_lrm", model_config: dict | None = None, layer: str = "tokenizer.rgb_embed",
                 stitch: str = "conv3d_k5x3x3_o1024_s4x2x2_p2x1x1", latent_channels: int = LATENT_CHANNELS):
        super().__init__()
        self.spec = parse_stitch_spec(stitch)
        self.model = adapter_class(adapter).from_config(model_config or {})
        if layer not in self.model.candidate_layers():
            raise ValueError(f"layer {layer!r} is not a candidate of adapter {adapter!r}: "
                             f"{', '.join(self.model.candidate_layers())}")
        channels = self.model.layer_grid(layer, 1, 64, 64)[0]
        if self.spec.out_channels != channels:
            raise ValueError(f"stitching spec {stitch} makes {self.spec.out_channels} channels; layer {layer} has "
                             f"{channels}")
        self.model.prune_before(layer)
        self.stitching = StitchingLayer(self.spec, latent_channels)

    @classmethod
    def from_model(cls, model: nn.Module, adapter: str, layer: str, stitch: str, weight: Tensor | None = None,
                   bias: Tensor | None = None, latent_channels: int = LATENT_CHANNELS) -> StitchedDecoder:
        """The stitched decoder of a loaded 3D `model` at `layer`, its conv set to the closed-form map
        (weight (d, C), bias (C,)) when given; the kept layers' weights are copied from `model`."""
        decoder = cls(adapter, model.stitch_config(), layer, stitch, latent_channels)
        kept = decoder.model.state_dict().keys()
        state = model.state_dict()
        decoder.model.load_state_dict({k: state[k] for k in kept}, strict=True)
        if weight is not None:
            decoder.stitching.load_map(weight.float(), bias.float())
        return decoder.to(next(model.parameters()).device)

    def activation_grid(self, num_frames: int, height: int, width: int) -> tuple[int, int, int, int]:
        """(C, T', h', w') the stitching layer produces for a (num_frames, height, width) video: it must be the
        3D model's grid at the layer (checked here, before any work, for the given size)."""
        t = (num_frames - 1) // 4 + 1
        made = (self.spec.out_channels, *self.spec.output_grid(t, height // SPATIAL_COMPRESSION,
                                                             width // SPATIAL_COMPRESSION))
        expected = self.model.layer_grid(self.config.layer, num_frames, height, width)
        if tuple(made) != tuple(expected):
            raise ValueError(f"stitching spec {self.spec} turns {num_frames} x {height} x {width} into {made}, but "
                             f"layer {self.config.layer} is {tuple(expected)} (C, T', h', w')")
        return made

    def forward(self, latents: Tensor, cameras: Cameras) -> StitchedOutput:
        """latents (B, 16, T, h, w) + cameras (B, F) of the (F, 8h, 8w) video -> Gaussians (B, G) + outputs."""
        num_frames = upsampled_frames(latents.shape[2])
        height, width = (SPATIAL_COMPRESSION * n for n in latents.shape[-2:])
        if (cameras.height, cameras.width) != (height, width) or cameras.c2w.shape[1] != num_frames:
            raise ValueError(f"cameras are {cameras.c2w.shape[1]} x {cameras.height} x {cameras.width}, latents "
                             f"{tuple(latents.shape)} imply {num_frames} x {height} x {width}")
        self.activation_grid(num_frames, height, width)
        activation = self.stitching(latents)  # (B, C, T', h', w')
        outputs = self.model.forward_from(self.config.layer, activation, cameras)
        return StitchedOutput(self.model.to_gaussians(outputs), outputs)

    def trainable_parameters(self) -> list[str]:
        """Names that train in a fine-tune besides the LoRA: the stitching conv + the adapter's extras."""
        extra = tuple(f"model.{p}" for p in self.model.extra_trainable(self.config.layer))
        return [n for n, _ in self.named_parameters() if n.startswith("stitching.") or n.startswith(extra)]

    @torch.no_grad()
    def set_map(self, weight: Tensor, bias: Tensor) -> None:
        self.stitching.load_map(weight.float(), bias.float())
