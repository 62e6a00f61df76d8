"""The alignment config schema (Hydra YAML under `configs/align/` is validated against it).

`trainer` and `optim` are the keys every trainer shares (`wonderland.training`). The numbers of the default
config are VIST3A's (SPEC.md section 7): LoRA rank 8 / alpha 16 on the attention q, k, v, out of the main
blocks, AdamW lr 1e-4, betas (0.9, 0.95), grad clip 1.0 (the released code; the paper says 0.1), EMA 0.99,
sampling steps U{10..50}, gradient on 2 random steps plus the last, 3D consistency weight 0.05 on 2 views with
-L1 - 0.25 LPIPS, image-quality weights 1/16 each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wonderland.checks import check_choice, check_float, check_int
from wonderland.errors import InputError
from wonderland.training import OptimConfig, TrainerConfig, build_typed, check_optim, check_trainer

DATA_KINDS = ("synthetic", "re10k", "acid", "dl3dv")


@dataclass
class ModelConfig:
    family: str | None = None  # the model family to align (a directory with wonderland.json)


@dataclass
class LoraConfig:
    rank: int = 8
    alpha: float = 16.0
    targets: list[str] = field(default_factory=lambda: ["to_q", "to_k", "to_v", "to_out.0"])  # attn1 projections
    train_camera: bool = False  # also train the camera branches (encoders, control blocks, fuse, camera-LoRA)
    ema_decay: float = 0.99  # EMA of the alignment-LoRA weights; the EMA copy is what is saved and used


@dataclass
class RolloutConfig:
    min_steps: int = 10  # sampling steps drawn from U{min_steps..max_steps} per rollout
    max_steps: int = 50
    grad_steps: int = 2  # K random steps (besides the last) that carry gradient
    last_step: bool = True  # the last step always carries gradient (VIST3A's released code)
    guidance_scale: float | None = None  # null: the family's default


@dataclass
class RewardConfig:
    consistency: float = 0.05  # weight of 3D consistency = -(L1 + lpips x LPIPS) between frame and render
    views: int = 2  # frames compared per clip (drawn at random)
    lpips: float = 0.25  # LPIPS coefficient inside the consistency reward; > 0 needs the weights below
    lpips_net: str = "vgg"
    lpips_heads: str | None = None  # LPIPS v0.1 heads (wonderland.metrics.load_lpips); never random
    lpips_backbone: str | None = None
    background: float = 1.0  # the LaLRM's training background (configs/lalrm loss.background)
    quality: dict[str, float] = field(default_factory=lambda: {"pickscore": 1 / 16, "dfn_clip": 1 / 16})
    quality_weights: dict[str, str] = field(default_factory=dict)  # scorer -> local weights; missing: unavailable


@dataclass
class LossConfig:
    gen: float = 1.0  # the generator's own diffusion loss on real clips (guards against reward hacking)


@dataclass
class DataConfig:
    """Real clips for the diffusion loss and the rollouts' images and cameras; sizes come from the family."""

    kind: str = "re10k"  # synthetic | re10k | acid | dl3dv
    root: str | None = None
    strides: list[int] = field(default_factory=lambda: [3, 4, 5])
    num_scenes: int = 16  # synthetic: scenes to write when root has none
    val_scenes: int = 2  # held out (the last scenes)
    seed: int = 0


@dataclass
class AlignConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)


def to_schema(cfg) -> AlignConfig:
    """A composed Hydra/OmegaConf config (or an AlignConfig) -> a validated `AlignConfig`."""
    return build_typed(AlignConfig, cfg, check)


def check(cfg: AlignConfig) -> None:
    """Every value against its range, before any model, dataset or output exists."""
    check_trainer(cfg.trainer)
    check_optim(cfg.optim)
    if not cfg.trainer.dry_run and not cfg.model.family:
        raise InputError(None, "model.family", "missing value; give model.family=<model family directory>")
    lo = cfg.lora
    check_int(lo.rank, "lora.rank", min=1)
    check_float(lo.alpha, "lora.alpha", min=0.0, min_open=True)
    check_float(lo.ema_decay, "lora.ema_decay", min=0.0, max=1.0, max_open=True)
    if not lo.targets:
        raise InputError(None, "lora.targets", "expected at least one attention projection, e.g. [to_q, to_v]")
    r = cfg.rollout
    check_int(r.min_steps, "rollout.min_steps", min=1)
    check_int(r.max_steps, "rollout.max_steps", min=r.min_steps)
    check_int(r.grad_steps, "rollout.grad_steps", min=0)
    if r.grad_steps == 0 and not r.last_step:
        raise InputError(None, "rollout.grad_steps", "0 with rollout.last_step=false: no step carries gradient")
    if r.guidance_scale is not None:
        check_float(r.guidance_scale, "rollout.guidance_scale", min=0.0)
    w = cfg.reward
    check_float(w.consistency, "reward.consistency", min=0.0)
    check_int(w.views, "reward.views", min=1)
    check_float(w.lpips, "reward.lpips", min=0.0)
    check_choice(w.lpips_net, "reward.lpips_net", ("vgg", "alex"))
    check_float(w.background, "reward.background", min=0.0, max=1.0)
    for name, weight in w.quality.items():
        check_float(weight, f"reward.quality.{name}", min=0.0)
    check_float(cfg.loss.gen, "loss.gen", min=0.0)
    d = cfg.data
    check_choice(d.kind, "data.kind", DATA_KINDS)
    for i, s in enumerate(d.strides):
        check_int(s, f"data.strides[{i}]", min=1)
    check_int(d.num_scenes, "data.num_scenes", min=1)
    check_int(d.val_scenes, "data.val_scenes", min=0)
    if not cfg.trainer.dry_run and d.root is None:
        raise InputError(None, "data.root", f"data kind {d.kind!r} needs a root")
