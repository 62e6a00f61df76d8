"""AdamW and its learning-rate schedule from `optim.*`; the schedules are transformers' own.

- cosine: linear warm-up to `lr`, cosine down to `min_lr` at `max_steps` (`cosine_with_min_lr`).
- constant: linear warm-up, then `lr` (`constant_with_warmup`).
- linear: linear warm-up, then linearly down to `min_lr` (`warmup_stable_decay` with no stable phase).
- wsd: warm-up, constant, then the last `decay_steps` (default half the run) linearly down to `min_lr`
  (`warmup_stable_decay`): short runs end on a low rate without spending half of them decaying.
The schedule is stepped once per optimizer step on every process (it is not `accelerate.prepare`d, which
would step it once per process), and it is saved in each checkpoint.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import OptimConfig


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Trainable parameters; no weight decay on biases and norm weights (1-D tensors), as GPT/GS-LRM do."""
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = [p for _, p in params if p.ndim >= 2]
    no_decay = [p for _, p in params if p.ndim < 2]
    return [g for g in ({"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0})
            if g["params"]]


def build_optimizer(groups: list[dict] | list[nn.Parameter], o: OptimConfig) -> torch.optim.Optimizer:
    kw = dict(lr=o.lr, betas=tuple(o.betas), weight_decay=o.weight_decay)
    if not o.use_8bit_adam:
        return torch.optim.AdamW(groups, **kw)
    try:
        import bitsandbytes as bnb
    except ImportError:
        raise ImportError("optim.use_8bit_adam=true needs bitsandbytes (pip install bitsandbytes; CUDA only)") \
            from None
    return bnb.optim.AdamW8bit(groups, **kw)


def build_lr_scheduler(optimizer: torch.optim.Optimizer, o: OptimConfig, max_steps: int):
    from transformers import get_scheduler

    warmup = o.warmup_steps  # as configured, even past max_steps (a short smoke run stays in its warm-up)
    floor = o.min_lr / o.lr
    if o.schedule == "cosine":
        return get_scheduler("cosine_with_min_lr", optimizer, warmup, max_steps,
                             scheduler_specific_kwargs={"min_lr_rate": floor})
    if o.schedule == "constant":
        return get_scheduler("constant_with_warmup", optimizer, warmup)
    decay = max_steps - warmup if o.schedule == "linear" else (o.decay_steps or max_steps // 2)
    decay = max(1, min(decay, max_steps - min(warmup, max_steps)))
    return get_scheduler("warmup_stable_decay", optimizer, warmup, max_steps, scheduler_specific_kwargs={
        "num_decay_steps": decay, "decay_type": "linear", "min_lr_ratio": floor})
