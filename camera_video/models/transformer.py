"""`CameraVideoTransformer`: a frozen diffusers `CogVideoXTransformer3DModel` + dual-branch camera control.

The forward pass is the base model's own phases, calling the base's own modules (time embedding,
patch embedding, blocks, output norms and projection), with the camera entering in two places:
- LoRA branch: video tokens <- fuse(concat(video tokens, lora camera tokens)), fuse = [identity | zero],
  before the main blocks, which carry the camera-LoRA (peft, lora_B = 0 at init);
- control branch: copies of the first N blocks run on (video tokens + ctrl camera tokens); the
  zero-initialised projection of copy i's output is added to main block i's video-token output.
Every path starts at zero, so a fresh model computes exactly what the base computes. With
`plucker=None` the camera-LoRA is switched off too and the model is the stock base model.

Step caches (diffusers' hooks, `enable_cache`): the first-block cache goes on the main blocks. Block 0 runs
first; when its output says "reuse", the cached residual (last computed step: output of the last main block
minus output of block 0, which holds every control residual added in between) replaces blocks 1..N-1 *and*
the control branch, so a reused step is the same function as a computed one with the middle frozen; the
control branch runs only on computed steps. Pyramid attention broadcast goes on every attention layer,
main and control alike, each reusing its own output.

Inference helpers (what a sampler need not redo every step): `camera_tokens(plucker)` runs the two camera
encoders once per trajectory (`forward(camera_tokens=...)` then skips them; identical outputs), and
`fuse_camera_lora()` merges the camera-LoRA into the frozen projections (diffusers' `fuse_lora`, peft merge:
no LoRA matmuls; outputs equal within float rounding).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import torch
from diffusers.models.cache_utils import CacheMixin
from diffusers.utils.accelerate_utils import apply_forward_hook
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from wonderland.errors import InputError

from ..lora import ADAPTER_NAME, LORA_WEIGHTS, add_camera_lora, load_lora_state_dict
from .camera_model import CameraControlModel
from .config import CameraControlConfig


@contextlib.contextmanager
def _lora_scale(model: nn.Module, scale: float) -> Iterator[None]:
    """diffusers' LoRA scaling (what `apply_lora_scale` does around the stock forward)."""
    from diffusers.utils.peft_utils import scale_lora_layers, unscale_lora_layers

    scale_lora_layers(model, scale)
    try:
        yield
    finally:
        unscale_lora_layers(model, scale)


class CameraVideoTransformer(nn.Module, CacheMixin):
    """A frozen base + its camera parts (`CameraControlModel`) + the camera-LoRA inside the base's main blocks.

    `camera=None` builds fresh camera parts for `base` from `camera_config` (control blocks copied from the base's
    first blocks); a loaded `CameraControlModel` must fit the base (`check_fits`).
    """

    def __init__(self, base, camera_config: CameraControlConfig | None = None,
                 camera: CameraControlModel | None = None):
        super().__init__()
        if base.config.patch_size_t is not None:
            raise ValueError("only CogVideoX 1.0 transformers (patch_size_t None, e.g. 5B-I2V) are supported")
        if camera is None:
            if camera_config is None:
                raise ValueError("give camera_config (fresh camera parts) or camera (a CameraControlModel)")
            # The control copy is taken before the LoRA is added, so the copies carry no LoRA layers.
            camera = CameraControlModel.from_transformer(base, camera_config)
        else:
            camera.check_fits(base)
            camera = camera.like(base)
        self.camera = camera
        c = camera.config
        if c.lora_rank:
            add_camera_lora(base, c.lora_rank, c.lora_alpha, tuple(c.lora_targets))
        self.base = base
        self.gradient_checkpointing = False
        self.freeze_base()

    @property
    def camera_config(self) -> CameraControlConfig:
        return self.camera.camera_config

    # The camera parts, by their names in the paper's description (and the pre-0.2 attribute names).
    control = property(lambda self: self.camera.control)
    ctrl_encoder = property(lambda self: self.camera.ctrl_encoder)
    lora_encoder = property(lambda self: self.camera.lora_encoder)
    fuse = property(lambda self: self.camera.fuse)

    # ---- what trains --------------------------------------------------------------------------
    def freeze_base(self) -> None:
        """Trainable: camera encoders, control blocks + zero linears, fuse linear, LoRA. Frozen: the rest."""
        self.requires_grad_(True)
        for name, param in self.base.named_parameters():
            param.requires_grad_("lora_" in name)

    def camera_state_dict(self) -> dict[str, Tensor]:
        """Only the camera parts (what a released camera checkpoint holds); keys as in `state_dict()`."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("base.") or "lora_" in k}

    # ---- saving: the camera folder ------------------------------------------------------------
    def save_camera(self, directory: str | Path) -> None:
        """`<dir>/config.json` + `diffusion_pytorch_model.safetensors` (the camera parts, diffusers layout) and
        `<dir>/camera_lora.safetensors` (the camera-LoRA, diffusers' `save_lora_adapter` format)."""
        directory = Path(directory)
        self.camera.save_pretrained(directory)
        if self.camera.config.lora_rank:
            self.base.save_lora_adapter(directory, adapter_name=ADAPTER_NAME, weight_name=LORA_WEIGHTS)

    def load_camera_lora(self, directory: str | Path) -> None:
        """The camera-LoRA weights of a camera folder into this model's LoRA layers (every key must fit)."""
        from safetensors.torch import load_file

        if not self.camera.config.lora_rank:
            return
        path = Path(directory) / LORA_WEIGHTS
        if not path.is_file():
            raise InputError(path, None, "missing: the camera folder has no camera-LoRA weights")
        load_lora_state_dict(self.base, load_file(str(path), device=str(self.device)), source=path)

    def enable_gradient_checkpointing(self) -> None:
        self.gradient_checkpointing = True

    @property
    def config(self):  # the base's config: what pipelines and RoPE helpers read
        return self.base.config

    @property
    def device(self) -> torch.device:
        return self.base.device

    @property
    def dtype(self) -> torch.dtype:
        return self.base.dtype

    # ---- step caches (diffusers hooks) -------------------------------------------------------
    def enable_cache(self, config) -> None:
        """`FirstBlockCacheConfig` (main blocks; see the module docstring) or `PyramidAttentionBroadcastConfig`
        (every attention layer). Other diffusers caches are refused: they assume the stock forward."""
        from diffusers.hooks import (
            FirstBlockCacheConfig,
            HookRegistry,
            PyramidAttentionBroadcastConfig,
            apply_first_block_cache,
        )

        if isinstance(config, FirstBlockCacheConfig):
            if self.is_cache_enabled:
                raise ValueError(f"a cache is already enabled ({type(self._cache_config).__name__}); disable it first")
            if self.control is not None and len(self.control.blocks) >= len(self.base.transformer_blocks):
                raise ValueError("first-block cache needs a main block after the last control residual")
            apply_first_block_cache(self.base, config)
            HookRegistry.check_if_exists_or_initialize(self).invalidate_child_registries_cache()
            self._cache_config = config
        elif isinstance(config, PyramidAttentionBroadcastConfig):
            super().enable_cache(config)
        else:
            raise ValueError(f"{type(config).__name__} is not supported by the camera model (first-block cache "
                             "and pyramid attention broadcast are)")

    def _reuses_step(self) -> bool:
        """After main block 0 ran: did the first-block cache decide to reuse the cached residual?"""
        from diffusers.hooks.first_block_cache import _FBC_LEADER_BLOCK_HOOK

        registry = getattr(self.base.transformer_blocks[0], "_diffusers_hook", None)
        hook = registry.get_hook(_FBC_LEADER_BLOCK_HOOK) if registry is not None else None
        return hook is not None and not hook.state_manager.get_state().should_compute

    # ---- inference helpers ----------------------------------------------------------------------
    @apply_forward_hook  # onloads the model under `enable_model_cpu_offload`, as forward would
    def camera_tokens(self, plucker: Tensor, dtype: torch.dtype | None = None) -> tuple[Tensor | None, Tensor | None]:
        """Plücker (B, F, 6, H, W) -> (ctrl tokens, lora tokens), each (B, N, D) or None (branch absent): the camera
        encoders' output. It depends on the trajectory only: compute it once per sampling run, not per step."""
        plucker = plucker.to(dtype or self.dtype)
        ctrl = self.ctrl_encoder(plucker) if self.control is not None else None
        lora = self.lora_encoder(plucker) if self.fuse is not None else None
        return ctrl, lora

    @property
    def lora_fused(self) -> bool:
        from peft.tuners.tuners_utils import BaseTunerLayer

        return any(m.merged for m in self.base.modules() if isinstance(m, BaseTunerLayer))

    def fuse_camera_lora(self) -> None:
        """Merge the camera-LoRA into the frozen projections for inference (W <- W + scale B A, peft's merge). A
        fused model always applies the LoRA: `forward` then refuses to run without a camera. `unfuse_camera_lora`
        subtracts it again, which restores W only up to rounding (1 ulp in bf16): never fuse a model that trains."""
        from ..lora import ADAPTER_NAME

        if self.camera.config.lora_rank and not self.lora_fused:
            self.base.fuse_lora(adapter_names=[ADAPTER_NAME])

    def unfuse_camera_lora(self) -> None:
        self.base.unfuse_lora()

    # ---- forward ------------------------------------------------------------------------------
    def _run(self, fn, *args):
        if torch.is_grad_enabled() and self.gradient_checkpointing:
            return checkpoint(fn, *args, use_reentrant=False)
        return fn(*args)

    def forward(self, hidden_states: Tensor, encoder_hidden_states: Tensor, timestep: Tensor | int,
                plucker: Tensor | None = None, timestep_cond: Tensor | None = None, ofs: Tensor | None = None,
                image_rotary_emb: tuple[Tensor, Tensor] | None = None, attention_kwargs: dict | None = None,
                return_dict: bool = True, camera_tokens: tuple[Tensor | None, Tensor | None] | None = None):
        """As `CogVideoXTransformer3DModel.forward`, plus the camera.

        hidden_states (B, T, C_in, h, w) (noisy latents ++ image latents on channels for I2V);
        encoder_hidden_states (B, L, text_dim); plucker (B, F = 4T - 3, 6, 8h, 8w) or None, or instead
        camera_tokens = `self.camera_tokens(plucker)` computed once (each (B, N, D) or None).
        Returns the prediction (B, T, C_out, h, w).
        """
        from diffusers.models.modeling_outputs import Transformer2DModelOutput

        base = self.base
        attention_kwargs = dict(attention_kwargs or {})
        if plucker is not None and camera_tokens is not None:
            raise ValueError("give plucker or camera_tokens, not both")
        has_camera = plucker is not None or camera_tokens is not None
        if not has_camera and self.lora_fused:
            raise ValueError("the camera-LoRA is fused into the base: the model has no camera-free mode "
                             "(unfuse_camera_lora first)")
        lora_scale = attention_kwargs.pop("scale", 1.0) if has_camera else 0.0
        batch_size, num_frames, _, height, width = hidden_states.shape

        # 1. Time embedding (+ ofs for models that have it)
        emb = base.time_embedding(base.time_proj(timestep).to(dtype=hidden_states.dtype), timestep_cond)
        if base.ofs_embedding is not None:
            emb = emb + base.ofs_embedding(base.ofs_proj(ofs).to(dtype=hidden_states.dtype))

        # 2. Patch embedding; split text (B, L, D) and video (B, N, D) tokens
        tokens = base.embedding_dropout(base.patch_embed(encoder_hidden_states, hidden_states))
        text_len = encoder_hidden_states.shape[1]
        text, video = tokens[:, :text_len], tokens[:, text_len:]

        # 3. Camera branches: the control branch's input and the LoRA-branch fuse
        control_input = None
        if plucker is not None:
            camera_tokens = self.camera_tokens(plucker, video.dtype)
        if camera_tokens is not None:
            ctrl_tokens, lora_tokens = camera_tokens
            if self.control is not None:
                control_input = video + ctrl_tokens.to(video.dtype)
            if self.fuse is not None:
                video = self.fuse(torch.cat([video, lora_tokens.to(video.dtype)], dim=-1))

        # 4. Main blocks (frozen, carrying the camera-LoRA), control residual i added after block i. The control
        # branch (copies of blocks 0..C-1 on the text and video tokens before block 0) runs after main block 0,
        # so that a step the first-block cache reuses skips it (same values: it does not depend on main blocks).
        residuals: list[Tensor] = []
        text_in = text
        with _lora_scale(base, lora_scale):
            for i, block in enumerate(base.transformer_blocks):
                video, text = self._run(block, video, text, emb, image_rotary_emb, attention_kwargs)
                if i == 0 and control_input is not None and not self._reuses_step():
                    residuals = self.control(control_input, text_in, emb, image_rotary_emb, attention_kwargs,
                                             run=self._run)
                if i < len(residuals):
                    video = video + residuals[i]

        # 5. Output norms and projection, then unpatchify as the base does (CogVideoX 1.0)
        video = base.proj_out(base.norm_out(base.norm_final(video), temb=emb))
        p = base.config.patch_size
        out = video.reshape(batch_size, num_frames, height // p, width // p, -1, p, p)
        out = out.permute(0, 1, 4, 2, 5, 3, 6).flatten(5, 6).flatten(3, 4)
        return Transformer2DModelOutput(sample=out) if return_dict else (out,)
