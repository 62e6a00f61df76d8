"""The keys every trainer shares: `trainer.*` (the loop) and `optim.*` (AdamW and its schedule).

Every Hydra trainer (`camera_video.train`, `lalrm.train`, and the trainers built on them) has these two
sections with exactly these keys, validated here before any model, dataset or output is touched: a bad
value is an `InputError` naming `trainer.<key>` / `optim.<key>`, the value and what is expected.

`trainer.batch_size` is the **global** batch of one optimizer step (the papers' "batch 24"), split over
processes and accumulation micro-steps; so the data seen at step s, the learning-rate schedule and the
result do not depend on the number of GPUs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ..checks import check_choice, check_float, check_int
from ..errors import InputError

T = TypeVar("T")
MIXED_PRECISION = ("no", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda")
SCHEDULES = ("cosine", "constant", "linear", "wsd")
# Keys of earlier releases: a config that still uses one gets a one-line error saying what replaced it.
RENAMED = {
    "trainer.steps": "trainer.max_steps", "trainer.max_grad_norm": "trainer.grad_clip",
    "trainer.lr": "optim.lr", "trainer.betas": "optim.betas", "trainer.weight_decay": "optim.weight_decay",
    "trainer.warmup_steps": "optim.warmup_steps", "trainer.use_8bit_adam": "optim.use_8bit_adam",
    "optim.grad_clip": "trainer.grad_clip", "output_dir": "trainer.output_dir", "seed": "trainer.seed",
    "stage.batch_size": "trainer.batch_size", "stage.lr": "optim.lr", "stage.min_lr": "optim.min_lr",
    "stage.generated": "data.generated", "data.generated.fraction": "data.generated.ratio",
    "trainer.background": "loss.background", "trainer.val_every": "validation.every",
}


@dataclass
class TrainerConfig:
    output_dir: str = "outputs/run"
    seed: int = 0
    max_steps: int = 1000  # optimizer steps
    batch_size: int = 1  # global: processes x micro-batch x grad_accum
    grad_accum: int = 1  # micro-steps per optimizer step
    grad_clip: float = 1.0  # max gradient norm; 0 = off
    mixed_precision: str = "bf16"  # no | bf16 | fp16 (accelerate autocast; bf16 also on CPU)
    device: str = "auto"  # auto (CUDA when present) | cpu | cuda (refused where torch sees no GPU)
    gradient_checkpointing: bool = False
    checkpoint_every: int = 1000
    keep_last: int = 3  # checkpoints kept (the newest)
    resume: str | None = "auto"  # auto: the newest checkpoint in output_dir/checkpoints | null | a checkpoint dir
    stop_after: int | None = None  # end this invocation after N steps (time-limited jobs); resume continues
    skip_nonfinite: bool = False  # a step whose loss or gradient is not finite: skip it and count (else: stop)
    log_every: int = 10
    progress: bool = True  # tqdm bar with ETA (main process)
    num_workers: int = 0  # DataLoader workers
    dry_run: bool = False  # sizes and a memory estimate of the configured model; nothing allocated, nothing written


@dataclass
class OptimConfig:
    lr: float = 1e-4  # peak
    min_lr: float = 0.0  # floor of the cosine / linear / wsd decay
    betas: list[float] = field(default_factory=lambda: [0.9, 0.95])
    weight_decay: float = 0.0
    warmup_steps: int = 0
    schedule: str = "cosine"  # cosine | constant | linear | wsd (constant, then the last `decay_steps` linear)
    decay_steps: int | None = None  # wsd only: length of the final decay (default: half of max_steps)
    use_8bit_adam: bool = False  # bitsandbytes AdamW8bit (CUDA)


def check_trainer(t: TrainerConfig, processes: int = 1) -> None:
    """Every `trainer.*` value, and that the global batch splits over `processes` x `grad_accum`."""
    for key in ("max_steps", "batch_size", "grad_accum", "checkpoint_every", "keep_last", "log_every"):
        check_int(getattr(t, key), f"trainer.{key}", min=1)
    check_int(t.seed, "trainer.seed", min=0)
    check_int(t.num_workers, "trainer.num_workers", min=0)
    if t.stop_after is not None:
        check_int(t.stop_after, "trainer.stop_after", min=1)
    check_float(t.grad_clip, "trainer.grad_clip", min=0.0)
    check_choice(t.mixed_precision, "trainer.mixed_precision", MIXED_PRECISION)
    check_choice(t.device, "trainer.device", DEVICES)
    if t.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise InputError(None, "trainer.device", "expected auto or cpu: torch sees no CUDA device here",
                             value=t.device)
    if not isinstance(t.output_dir, str) or not t.output_dir.strip():
        raise InputError(None, "trainer.output_dir", "expected a directory path", value=t.output_dir)
    if t.batch_size % (processes * t.grad_accum):
        raise InputError(None, "trainer.batch_size", f"expected a multiple of processes x trainer.grad_accum = "
                         f"{processes} x {t.grad_accum} (it is the global batch of one optimizer step)",
                         value=t.batch_size)


def check_optim(o: OptimConfig) -> None:
    check_float(o.lr, "optim.lr", min=0.0, min_open=True)
    check_float(o.min_lr, "optim.min_lr", min=0.0, max=o.lr)
    check_float(o.weight_decay, "optim.weight_decay", min=0.0)
    check_int(o.warmup_steps, "optim.warmup_steps", min=0)
    if len(o.betas) != 2:
        raise InputError(None, "optim.betas", "expected two numbers [beta1, beta2]", value=list(o.betas))
    for i, b in enumerate(o.betas):
        check_float(b, f"optim.betas[{i}]", min=0.0, max=1.0, max_open=True)
    check_choice(o.schedule, "optim.schedule", SCHEDULES)
    if o.decay_steps is not None:
        check_int(o.decay_steps, "optim.decay_steps", min=1)


def check_renamed(cfg) -> None:
    """A config (OmegaConf or dict) that still uses a key of an earlier release: one line naming its new name."""
    from omegaconf import OmegaConf

    flat = OmegaConf.to_container(cfg, resolve=False) if OmegaConf.is_config(cfg) else cfg
    for old, new in RENAMED.items():
        node = flat
        for part in old.split("."):
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                break
        else:
            raise InputError(None, old, f"was renamed to {new} in wonderland 0.2; use {new}=...")


def build_typed(schema: type[T], cfg, check: Callable[[T], None]) -> T:
    """A composed Hydra config (DictConfig or dict) or an instance of `schema` -> the checked `schema` instance:
    keys of earlier releases named (`check_renamed`), merged onto the dataclass (unknown keys and wrong types fail
    there), then every value checked by `check` (the trainer's own, which calls `check_trainer`/`check_optim`)."""
    from omegaconf import DictConfig, OmegaConf

    if isinstance(cfg, schema):
        check(cfg)
        return cfg
    raw = cfg if isinstance(cfg, DictConfig) else OmegaConf.create(cfg)
    check_renamed(raw)
    out = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), raw))
    check(out)
    return out
