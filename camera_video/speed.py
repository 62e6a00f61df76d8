"""Sampling speed options of the camera-video pipeline, each off by default (measured in the README table).

- `scheduler`: another diffusers scheduler built from the family's scheduler config, so the noise schedule
  (scaled-linear betas), v-prediction, zero terminal SNR (`rescale_betas_zero_snr`) and trailing timestep
  spacing carry over. Only schedulers that implement all three are offered (`SCHEDULERS`). Not offered:
  LCM / TCD (need a distilled model), Heun / KDPM2 / DEIS / PNDM / LMS (no zero-terminal-SNR rescaling
  in diffusers), DDPM (ancestral: many steps).
- `cache`: a diffusers step cache on the transformer (`CameraVideoTransformer.enable_cache` says what a
  cached step skips): "fbc" = first-block cache (`FirstBlockCacheConfig(threshold)`: a step whose block-0
  residual changed by less than `cache_threshold` (relative mean absolute) reuses the rest of the network's
  residual), "pab" = pyramid attention broadcast (every 2nd step reuses each attention layer's output while
  the timestep is in (100, 800), diffusers' CogVideoX setting).
- `compile`: regional `torch.compile` of every CogVideoX block (main and control copies: one graph, reused),
  as diffusers' `compile_repeated_blocks` does; the first sampling run pays the compilation.
- `dynamic_cfg`: the guidance schedule of diffusers' `CogVideoXImageToVideoPipeline(use_dynamic_cfg=True)`.
- `fuse_lora`: merge the camera-LoRA into the frozen projections (`CameraVideoTransformer.fuse_camera_lora`):
  no LoRA matmuls per step, outputs equal within float rounding; for inference only (the model keeps it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from wonderland.errors import InputError

# name -> (diffusers class, keyword arguments on top of the family's scheduler config)
SCHEDULERS: dict[str, tuple[str, dict]] = {
    "cogvideox_dpm": ("CogVideoXDPMScheduler", {}),  # CogVideoX-5B-I2V's own: DPM-Solver++(2M), stochastic
    "cogvideox_ddim": ("CogVideoXDDIMScheduler", {}),  # DDIM, eta 0 (deterministic); CogVideoX-2B's default
    "dpm++_2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2,
                                                 "final_sigmas_type": "zero"}),
    "unipc": ("UniPCMultistepScheduler", {"solver_order": 2, "final_sigmas_type": "zero"}),
    "euler": ("EulerDiscreteScheduler", {}),
}
CACHES = ("none", "fbc", "pab")


@dataclass
class SamplingOptions:
    scheduler: str = "default"  # "default" (the family's) or a key of SCHEDULERS
    cache: str = "none"  # one of CACHES
    cache_threshold: float = 0.05  # fbc only: diffusers' default
    compile: bool = False
    dynamic_cfg: bool = False
    fuse_lora: bool = False

    def __post_init__(self):
        if self.scheduler != "default" and self.scheduler not in SCHEDULERS:
            raise InputError(None, "scheduler", f"expected default or one of {', '.join(SCHEDULERS)}",
                             value=self.scheduler)
        if self.cache not in CACHES:
            raise InputError(None, "cache", f"expected one of {', '.join(CACHES)}", value=self.cache)
        if not self.cache_threshold >= 0:
            raise InputError(None, "cache_threshold", "expected a number >= 0", value=self.cache_threshold)
        if self.compile and self.cache == "pab":
            # PAB's per-step Python state would sit inside the compiled blocks and recompile them every step.
            raise InputError(None, "compile", "cannot be combined with the pab cache (use fbc)", value=True)

    def to_dict(self) -> dict:
        return asdict(self)


def make_scheduler(name: str, base_config):
    """Scheduler `name` built from the family's scheduler config (see the module docstring)."""
    import diffusers

    cls_name, extra = SCHEDULERS[name]
    config = dict(base_config)
    shift = config.pop("snr_shift_scale", 1.0)
    if cls_name.startswith("CogVideoX"):
        config["snr_shift_scale"] = shift
    elif shift != 1.0:  # CogVideoX-5B (T2V) shifts its SNR by 3; only the CogVideoX schedulers implement it
        raise InputError(None, "scheduler", f"the model's scheduler has snr_shift_scale {shift}, which "
                         f"{cls_name} cannot apply; use cogvideox_dpm or cogvideox_ddim", value=name)
    return getattr(diffusers, cls_name).from_config(config, **extra)


def compile_blocks(transformer, **compile_kwargs) -> int:
    """Regional compilation: replace each CogVideoXBlock's `forward` by its `torch.compile` (before any cache
    hook wraps it, so hooks stay eager). Returns the number of blocks."""
    import torch
    from diffusers.models.transformers.cogvideox_transformer_3d import CogVideoXBlock

    blocks = [m for m in transformer.modules() if isinstance(m, CogVideoXBlock)]
    for block in blocks:
        block.forward = torch.compile(block.forward, **compile_kwargs)
    return len(blocks)


def apply_sampling_options(pipe, options: SamplingOptions) -> None:
    """Set a `CameraVideoPipeline` up for `options` (once, after loading): scheduler, compile, then cache.
    `dynamic_cfg` is a per-call argument (`pipe(..., use_dynamic_cfg=True)`), as in diffusers."""
    from diffusers.hooks import FirstBlockCacheConfig, PyramidAttentionBroadcastConfig

    if options.scheduler != "default":
        pipe.scheduler = make_scheduler(options.scheduler, pipe.scheduler.config)
    if options.fuse_lora:
        pipe.transformer.fuse_camera_lora()
    if options.compile:
        compile_blocks(pipe.transformer)
    if options.cache == "fbc":
        pipe.transformer.enable_cache(FirstBlockCacheConfig(threshold=options.cache_threshold))
    elif options.cache == "pab":
        pipe.transformer.enable_cache(PyramidAttentionBroadcastConfig(
            spatial_attention_block_skip_range=2, spatial_attention_timestep_skip_range=(100, 800),
            current_timestep_callback=lambda: pipe.current_timestep))
