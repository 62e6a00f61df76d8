"""The training config's schema (configs/lalrm/*.yaml), built and checked once at the entry point.

`model` is not listed field by field: it is `LaLRM`'s constructor arguments (its own config). `trainer` and
`optim` are the keys every trainer shares (`wonderland.training`). Unknown or mistyped keys fail when the
YAML is merged onto these dataclasses; every value is range-checked in `build_config`, before any model,
dataset or output exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig

from wonderland.checks import check_choice, check_float, check_int
from wonderland.errors import InputError
from wonderland.training import OptimConfig, TrainerConfig, build_typed, check_optim, check_trainer

from .loss import LossConfig

VERSION = 2  # of this config and of the run's config.json (1: wonderland 0.1, stage.lr / stage.batch_size ...)
LATENTS = ("cache", "vae")


@dataclass
class GeneratedConfig:
    root: str | None = None  # clips written by wonderland-make-clips (format: wonderland.data.generated_clips)
    ratio: float = 0.2  # probability that a training sample is a generated clip


@dataclass
class StageConfig:
    name: str = "lowres"
    height: int = 240
    width: int = 360
    num_seen: int = 24
    num_unseen: int = 24
    sup_height: int = 240
    sup_width: int = 360
    steps: int = 200_000  # the stage's length in the paper (trainer.max_steps is taken from it by stage files)
    init_from: str | None = None


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
    generated: GeneratedConfig = field(default_factory=GeneratedConfig)


@dataclass
class VAEConfig:
    path: str | None = None
    tiny: bool = False


@dataclass
class TrainConfig:
    model: dict[str, Any]
    stage: StageConfig
    data: DataConfig
    vae: VAEConfig
    loss: LossConfig
    optim: OptimConfig
    trainer: TrainerConfig
    version: int = VERSION
    num_frames: int = 49


def build_config(cfg: DictConfig | dict) -> TrainConfig:
    """Validate a composed Hydra config against the schema and every value against its range; -> the typed object."""
    return build_typed(TrainConfig, cfg, check)


def check(cfg: TrainConfig) -> None:
    from wonderland.data import KINDS
    from wonderland.latents import num_latent_frames

    check_trainer(cfg.trainer)
    check_optim(cfg.optim)
    if cfg.version != VERSION:
        raise InputError(None, "version", f"expected {VERSION} (this code's config version)", value=cfg.version)
    try:
        num_latent_frames(cfg.num_frames)
    except ValueError:
        raise InputError(None, "num_frames", "expected 4k + 1 frames (e.g. 9, 49)", value=cfg.num_frames) from None
    st = cfg.stage
    for key in ("height", "width"):
        if check_int(getattr(st, key), f"stage.{key}", min=8) % 8:
            raise InputError(None, f"stage.{key}", "expected a multiple of 8", value=getattr(st, key))
    for key, low in (("num_seen", 1), ("num_unseen", 0), ("sup_height", 1), ("sup_width", 1), ("steps", 1)):
        check_int(getattr(st, key), f"stage.{key}", min=low)
    check_choice(cfg.data.latents, "data.latents", LATENTS)
    for name, src in cfg.data.sources.items():
        check_choice(src.kind, f"data.sources.{name}.kind", KINDS)
        check_float(src.weight, f"data.sources.{name}.weight", min=0.0)
        if not src.strides:
            raise InputError(None, f"data.sources.{name}.strides", "expected a non-empty list", value=src.strides)
        for i, s in enumerate(src.strides):
            check_int(s, f"data.sources.{name}.strides[{i}]", min=1)
    check_float(cfg.data.generated.ratio, "data.generated.ratio", min=0.0, max=1.0)
    for name in ("mse", "perceptual", "opacity", "depth", "color_tv"):  # a negative weight rewards the error
        check_float(getattr(cfg.loss, name), f"loss.{name}", min=0.0)
    check_float(cfg.loss.background, "loss.background", min=0.0, max=1.0)
    _check_model(cfg.model)


def _check_model(model: dict) -> None:
    """The model's own constructor checks, on `meta` (no allocation)."""
    import torch

    from .model import LaLRM

    try:
        with torch.device("meta"):
            LaLRM(**model)
    except (TypeError, ValueError) as e:
        raise InputError(None, "model", str(e).splitlines()[0]) from None
