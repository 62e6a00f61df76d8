"""The training config's schema (configs/lalrm/*.yaml), built once at the entry point.

`model` is not listed field by field: it is `LaLRM`'s constructor arguments (its own config). Unknown or
mistyped keys fail when the YAML is merged onto these dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf

from .loss import LossConfig


@dataclass
class GeneratedConfig:
    root: str | None = None  # clips written by the camera-video pipeline (lalrm/data.py has the format)
    fraction: float = 0.2  # share of training samples drawn from them


@dataclass
class StageConfig:
    name: str = "lowres"
    height: int = 240
    width: int = 360
    num_seen: int = 24
    num_unseen: int = 24
    sup_height: int = 240
    sup_width: int = 360
    lr: float = 4e-4
    min_lr: float = 1e-5
    steps: int = 200_000
    batch_size: int = 24  # global, split over processes
    init_from: str | None = None
    generated: GeneratedConfig | None = None


@dataclass
class SourceConfig:
    kind: str = "re10k"
    root: str = "data/re10k"
    strides: list[int] = field(default_factory=lambda: [1])
    weight: float = 1.0


@dataclass
class DataConfig:
    sources: dict[str, SourceConfig] = field(default_factory=dict)
    latents: str = "cache"  # cache | vae
    cache_dir: str | None = None
    num_workers: int = 4


@dataclass
class VAEConfig:
    path: str | None = None
    tiny: bool = False


@dataclass
class OptimConfig:
    betas: tuple[float, float] = (0.9, 0.95)
    weight_decay: float = 0.05
    warmup_steps: int = 2000
    grad_clip: float = 1.0


@dataclass
class TrainerConfig:
    max_steps: int | None = None
    mixed_precision: str = "bf16"
    gradient_checkpointing: bool = True
    checkpoint_every: int = 1000
    keep_last: int = 3
    resume: str | None = "auto"
    stop_after: int | None = None  # end this invocation after N steps (time-limited jobs); resume continues
    log_every: int = 10
    background: float = 1.0
    dry_run: bool = False
    progress: bool = True


@dataclass
class TrainConfig:
    model: dict[str, Any]
    stage: StageConfig
    data: DataConfig
    vae: VAEConfig
    loss: LossConfig
    optim: OptimConfig
    trainer: TrainerConfig
    version: int = 1
    output_dir: str = "outputs/lalrm"
    seed: int = 0
    num_frames: int = 49

    @property
    def total_steps(self) -> int:
        return self.trainer.max_steps if self.trainer.max_steps is not None else self.stage.steps


def build_config(cfg: DictConfig | dict) -> TrainConfig:
    """Validate a composed Hydra config against the schema and return the typed object."""
    schema = OmegaConf.structured(TrainConfig)
    merged = OmegaConf.merge(schema, cfg if isinstance(cfg, DictConfig) else OmegaConf.create(cfg))
    out = OmegaConf.to_object(merged)
    if out.data.latents not in ("cache", "vae"):
        raise ValueError(f"data.latents must be 'cache' or 'vae', got {out.data.latents!r}")
    for name in ("mse", "perceptual", "opacity", "depth", "color_tv"):  # a negative weight rewards the error
        if getattr(out.loss, name) < 0:
            raise ValueError(f"loss.{name} must be >= 0, got {getattr(out.loss, name)}")
    return out
