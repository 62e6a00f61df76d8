"""The training config schema (Hydra YAML under `configs/camera_video/` is validated against it).

`trainer` and `optim` are the keys every trainer shares (`wonderland.training`); `stage` says what trains:
  camera  the paper's recipe: camera encoders, control branch, fuse and camera-LoRA on a frozen base;
  base    image-to-video pre-training of a whole stock CogVideoX transformer, for configs that have no released
          base weights (tests, the bundled demo family): the camera stage then starts from `<output_dir>/model`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wonderland.checks import check_choice, check_float, check_int
from wonderland.errors import InputError
from wonderland.training import OptimConfig, TrainerConfig, build_typed, check_optim, check_trainer

from .data import DataConfig

STAGES = ("camera", "base")
BASES = ("5b_i2v", "small", "tiny")
DATA_KINDS = ("synthetic", "re10k", "acid", "dl3dv", "mixed", "cache")


@dataclass
class ModelConfig:
    base: str = "5b_i2v"  # 5b_i2v | small | tiny: the transformer architecture (camera_video.models.config)
    pretrained: str | None = None  # local CogVideoX-5B-I2V dir (transformer/ vae/ scheduler/) or a base stage's
    #                                <output_dir>/model; null: a random base seeded by init_seed
    camera: dict = field(default_factory=dict)  # CameraControlConfig fields
    init_camera_weights: str | None = None  # start from a camera folder (a camera stage's <output_dir>/model)
    vae_scaling_factor: float | None = None  # tiny VAE only: latents to ~unit std (the real VAE's is 0.7)
    init_seed: int = 0  # seeds the random base of runs without `pretrained` (tiny), so checkpoints reload


@dataclass
class StageConfig:
    name: str = "camera"  # camera | base


@dataclass
class ValidationConfig:
    every: int = 1000  # optimizer steps between validations; 0: never
    clips: int = 2  # sampled clips written as videos
    inference_steps: int = 50


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    stage: StageConfig = field(default_factory=StageConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)


def to_schema(cfg) -> TrainConfig:
    """A composed Hydra/OmegaConf config (or a TrainConfig) -> a validated `TrainConfig`."""
    return build_typed(TrainConfig, cfg, check)


def check(cfg: TrainConfig) -> None:
    """Every value against its range, before any model, dataset or output exists."""
    from wonderland.latents import latent_shape

    check_trainer(cfg.trainer)
    check_optim(cfg.optim)
    check_choice(cfg.stage.name, "stage.name", STAGES)
    check_choice(cfg.model.base, "model.base", BASES)
    check_int(cfg.model.init_seed, "model.init_seed", min=0)
    if cfg.model.vae_scaling_factor is not None:
        check_float(cfg.model.vae_scaling_factor, "model.vae_scaling_factor", min=0.0, min_open=True)
    if cfg.stage.name == "camera":
        from .models import CameraControlConfig

        try:
            CameraControlConfig(**cfg.model.camera)
        except (TypeError, ValueError) as e:
            raise InputError(None, "model.camera", str(e).splitlines()[0]) from None
    d = cfg.data
    check_choice(d.kind, "data.kind", DATA_KINDS)
    for key in ("height", "width"):
        if check_int(getattr(d, key), f"data.{key}", min=8) % 8:
            raise InputError(None, f"data.{key}", "expected a multiple of 8 (the VAE's /8)", value=getattr(d, key))
    try:
        latent_shape(d.num_frames, d.height, d.width)
    except ValueError as e:
        raise InputError(None, "data.num_frames/height/width", str(e)) from None
    for i, s in enumerate(d.strides):
        check_int(s, f"data.strides[{i}]", min=1)
    check_int(d.num_scenes, "data.num_scenes", min=1)
    check_int(d.val_scenes, "data.val_scenes", min=0)
    v = cfg.validation
    check_int(v.every, "validation.every", min=0)
    check_int(v.clips, "validation.clips", min=0)
    check_int(v.inference_steps, "validation.inference_steps", min=1)
