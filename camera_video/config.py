"""The training config schema (Hydra YAML under `configs/camera_video/` is validated against it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .data import DataConfig


@dataclass
class ModelConfig:
    base: str = "5b_i2v"  # 5b_i2v | tiny: the transformer architecture (camera_video.models.config)
    pretrained: str | None = None  # local CogVideoX-5B-I2V dir (transformer/ vae/ scheduler/); null: random
    camera: dict = field(default_factory=dict)  # CameraControlConfig fields
    init_camera_weights: str | None = None  # start from saved camera weights
    vae_scaling_factor: float | None = None  # tiny VAE only: latents to ~unit std (the real VAE's is 0.7)
    init_seed: int = 0  # seeds the random base of runs without `pretrained` (tiny), so checkpoints reload


@dataclass
class TrainerConfig:
    output_dir: str = "outputs/camera_video"
    steps: int = 40_000  # optimizer steps
    batch_size: int = 1  # per process and micro-step; global batch = batch_size * processes * grad_accum
    grad_accum: int = 1
    lr: float = 2e-5
    betas: list[float] = field(default_factory=lambda: [0.9, 0.95])
    weight_decay: float = 1e-4
    warmup_steps: int = 0
    max_grad_norm: float = 1.0
    mixed_precision: str = "bf16"  # no | fp16 | bf16 (accelerate)
    gradient_checkpointing: bool = True
    use_8bit_adam: bool = False  # bitsandbytes AdamW8bit
    checkpoint_every: int = 500
    keep_last: int = 3
    resume: str | None = "auto"  # auto: the latest checkpoint in output_dir if any; a path; null: fresh
    dry_run: bool = False  # build the full model on `meta`, print parameters and a memory estimate
    log_every: int = 10
    val_every: int = 1000  # 0: never
    val_clips: int = 2
    val_inference_steps: int = 50
    num_workers: int = 4
    seed: int = 0


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)


def to_schema(cfg) -> TrainConfig:
    """A composed Hydra/OmegaConf config (or a TrainConfig) -> a validated `TrainConfig`."""
    if isinstance(cfg, TrainConfig):
        return cfg
    from omegaconf import OmegaConf

    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(TrainConfig), cfg))
