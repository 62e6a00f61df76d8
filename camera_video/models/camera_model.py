"""`CameraControlModel`: the trainable camera parts of the dual-branch model, as a diffusers model.

It holds the two camera encoders, the control branch (copies of the first N base blocks + zero linears)
and the fuse linear; its constructor arguments are its config (`ConfigMixin`), so `save_pretrained` /
`from_pretrained` work as for any diffusers model. The camera-LoRA lives inside the frozen base (peft
layers) and is saved beside it in the same folder (`camera_lora.safetensors`, diffusers'
`save_lora_adapter` format); `CameraVideoTransformer.save_camera` / `load_camera` handle the pair.

Config = what the camera branches add (`CameraControlConfig`: the paper's ablations are values here) plus
the base's block geometry that the control copies need (heads, head width, time-embedding width, ...),
so a saved camera folder says exactly which base it fits.
"""

from __future__ import annotations

from functools import partial

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from .camera_encoder import CameraEncoder
from .config import LORA_TARGETS, CameraControlConfig
from .control_branch import ControlBranch

# The base's block arguments a control copy is built from (CogVideoXTransformer3DModel's names).
BASE_KEYS = ("num_attention_heads", "attention_head_dim", "time_embed_dim", "patch_size", "dropout", "activation_fn",
             "attention_bias", "norm_elementwise_affine", "norm_eps")


class CameraControlModel(ModelMixin, ConfigMixin):
    config_name = "config.json"

    @register_to_config
    def __init__(self, num_control_blocks: int = 21, lora_rank: int = 256, lora_alpha: float | None = None,
                 lora_targets: tuple[str, ...] = LORA_TARGETS, encoder_channels: int = 128, encoder_layers: int = 2,
                 num_attention_heads: int = 48, attention_head_dim: int = 64, time_embed_dim: int = 512,
                 patch_size: int = 2, dropout: float = 0.0, activation_fn: str = "gelu-approximate",
                 attention_bias: bool = True, norm_elementwise_affine: bool = True, norm_eps: float = 1e-5):
        super().__init__()
        CameraControlConfig(num_control_blocks, lora_rank, lora_alpha, tuple(lora_targets), encoder_channels,
                            encoder_layers)  # validates the camera fields
        dim = num_attention_heads * attention_head_dim
        make_encoder = partial(CameraEncoder, dim, patch_size, encoder_channels, encoder_layers)
        self.ctrl_encoder = make_encoder() if num_control_blocks else None
        self.control = ControlBranch.build(num_control_blocks, dim, num_attention_heads, attention_head_dim,
                                           time_embed_dim, dropout, activation_fn, attention_bias,
                                           norm_elementwise_affine, norm_eps) if num_control_blocks else None
        self.lora_encoder = self.fuse = None
        if lora_rank:
            # Not zero-initialised: the zero half of the fuse already silences it (and needs its signal to learn).
            self.lora_encoder = make_encoder(zero_init=False)
            self.fuse = nn.Linear(2 * dim, dim)
            with torch.no_grad():  # [identity | zero]: passes the video tokens through unchanged
                self.fuse.weight.zero_()
                self.fuse.weight[:, :dim] = torch.eye(dim)
                self.fuse.bias.zero_()

    @classmethod
    def from_transformer(cls, base, camera: CameraControlConfig) -> CameraControlModel:
        """Camera parts for a `CogVideoXTransformer3DModel`: control blocks copied from its first blocks (call
        before the camera-LoRA is added to `base`, so the copies carry none), on its device and dtype."""
        model = cls(**camera.to_dict(), **{k: base.config[k] for k in BASE_KEYS})
        if model.control is not None:
            model.control.copy_blocks_from(base)
        return model.like(base)

    def like(self, base) -> CameraControlModel:
        """On `base`'s device and dtype (a no-op, and no diffusers cast warning, when already there)."""
        p = next(self.parameters(), None)
        if p is None or (p.device, p.dtype) == (base.device, base.dtype):
            return self
        return self.to(device=base.device, dtype=base.dtype)

    @property
    def camera_config(self) -> CameraControlConfig:
        c = self.config
        return CameraControlConfig(c.num_control_blocks, c.lora_rank, c.lora_alpha, tuple(c.lora_targets),
                                   c.encoder_channels, c.encoder_layers)

    def check_fits(self, base, source=None) -> None:
        """A one-line error unless this camera model was built for `base`'s block geometry."""
        from wonderland.errors import InputError

        wrong = [k for k in BASE_KEYS if self.config[k] != base.config[k]]
        if self.config.num_control_blocks > base.config.num_layers:
            wrong.append("num_control_blocks")
        if wrong:
            k = wrong[0]
            raise InputError(source, k, f"the camera weights were made for a base with {k}={self.config[k]}, this base "
                             f"has {base.config.get(k, base.config.num_layers)}")
