"""The one training loop. A trainer builds a `Task` (its model, its data stream and its loss) and calls `fit`;
everything else is here: devices and mixed precision (accelerate), gradient accumulation, clipping,
non-finite steps, the learning-rate schedule, checkpoints and `resume`, the run log, and the final model.

    acc = make_accelerator(cfg.trainer)          # before the model: device, process count checked, seeded
    task = Task("lalrm", model, stream, loss_fn, save_model=save_pretrained)
    result = fit(acc, task, cfg.trainer, cfg.optim, config=cfg_dict)

`loss(model, items, generator) -> {"loss": scalar, other scalar terms...}` gets one micro-batch (the collated
items of this process) and a generator seeded by (seed, step, g), g = micro-step * processes + rank the
micro-batch's index in the global batch (the one `StepBatchSampler` uses for its samples): a run resumed at
step s computes exactly what an uninterrupted run computes there, and a global batch trains to the same
weights whether its micro-batches are accumulated in one process or spread over several (DDP, FSDP).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from ..io import atomic_dir
from .checkpoint import Checkpointer
from .config import OptimConfig, TrainerConfig, check_trainer
from .runlog import RunLog
from .sampler import StepBatchSampler, seeded
from .schedule import build_lr_scheduler, build_optimizer, parameter_groups

log = logging.getLogger(__name__)
LossFn = Callable[[nn.Module, object, torch.Generator], dict[str, Tensor]]


def keep_items(items: list) -> list:
    """Default collate: the micro-batch as the list of its samples (the loss stacks what it needs)."""
    return items


@dataclass
class Task:
    name: str  # run-log project and the checkpoints' "trainer"
    model: nn.Module  # trained in place; its requires_grad flags say what trains
    stream: Dataset  # sample i (any i >= 0) -> item, a function of (seed, i): see sampler.py
    loss: LossFn
    collate: Callable[[list], object] = keep_items
    param_groups: list | None = None  # default: every trainable parameter, no decay on 1-D tensors
    trainable_only_checkpoints: bool = False  # a frozen base: checkpoints hold only what trains
    save_model: Callable[[nn.Module, Path], None] | None = None  # the unwrapped model -> a folder (end of run)
    after_step: Callable[[int, nn.Module], None] | None = None  # called on every process after step n (1-based)
    extra_scalars: Callable[[], dict[str, float]] | None = None  # logged with the loss terms


@dataclass
class FitResult:
    step: int  # optimizer steps done (all invocations)
    losses: list[float] = field(default_factory=list)  # this invocation's per-step loss (process mean)
    skipped: int = 0  # steps with a non-finite loss or gradient, skipped (trainer.skip_nonfinite)
    checkpoint: Path | None = None  # the newest checkpoint
    model_dir: Path | None = None  # <output_dir>/model when the run reached max_steps and the task saves one

    @property
    def finished(self) -> bool:
        return self.model_dir is not None or self.checkpoint is None


def make_accelerator(t: TrainerConfig, log_with: str | None = "tensorboard"):
    """The run's Accelerator: CUDA when present and `t.device` is not cpu (DDP/FSDP/DeepSpeed under
    `accelerate launch`), else CPU
    (gloo under `accelerate launch --multi_gpu`); bf16 autocast also on CPU when asked for. Call it before the
    model is built: it checks `t` against the process count (the global batch must split) and seeds every
    RNG (torch, numpy, random) with `t.seed`, so a trainer's initialisation is reproducible."""
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration, set_seed

    check_trainer(t)  # the device before accelerate touches it; the process count below
    project = ProjectConfiguration(project_dir=t.output_dir, logging_dir=str(Path(t.output_dir) / "tensorboard"))
    cpu = t.device == "cpu" or not torch.cuda.is_available()
    acc = Accelerator(mixed_precision=t.mixed_precision, cpu=cpu,
                      log_with=log_with, project_config=project)
    check_trainer(t, acc.num_processes)
    set_seed(t.seed)
    return acc


def fit(acc, task: Task, t: TrainerConfig, o: OptimConfig, config: dict | None = None) -> FitResult:
    out = Path(t.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    micro_batch = t.batch_size // (acc.num_processes * t.grad_accum)

    # 1. model, optimizer, schedule (stepped once per optimizer step, saved with the checkpoint)
    model = task.model
    if t.gradient_checkpointing and hasattr(model, "enable_gradient_checkpointing"):
        model.enable_gradient_checkpointing()
    opt = build_optimizer(task.param_groups or parameter_groups(model, o.weight_decay), o)
    sched = build_lr_scheduler(opt, o, t.max_steps)
    model, opt = acc.prepare(model, opt)
    acc.register_for_checkpointing(sched)
    params = [p for p in model.parameters() if p.requires_grad]

    # 2. resume: weights, optimizer, schedule, RNG; the data position is the step
    ckpt = Checkpointer(acc, out / "checkpoints", t.keep_last, task.name, task.trainable_only_checkpoints)
    start, resume_from = 0, ckpt.resolve(t.resume)
    if resume_from is not None:
        start = ckpt.load(resume_from)
        log.info("%s: resumed from %s at step %d", task.name, resume_from, start)
    result = FitResult(step=start)
    if start >= t.max_steps:
        result.model_dir = _finish(acc, task, model, out)
        return result
    stop = t.max_steps if t.stop_after is None else min(t.max_steps, start + t.stop_after)
    sampler = StepBatchSampler(start, stop, micro_batch, acc.process_index, acc.num_processes, t.grad_accum)
    loader = iter(DataLoader(task.stream, batch_sampler=sampler, num_workers=t.num_workers,
                             collate_fn=task.collate))

    # 3. steps
    run_log = RunLog(acc, out, task.name, t.max_steps, start, t.progress, config)
    model.train()
    t0 = time.perf_counter()
    for step in range(start, stop):
        terms = _accumulate(acc, task, model, loader, t, step)
        norm = acc.clip_grad_norm_(params, t.grad_clip if t.grad_clip > 0 else math.inf)
        loss = terms["loss"]
        finite = math.isfinite(loss) and bool(torch.isfinite(torch.as_tensor(norm)))
        if finite:
            opt.step()
        elif t.skip_nonfinite:  # the schedule still advances: the step's data and lr are spent
            result.skipped += 1
        else:
            raise FloatingPointError(f"{task.name}: loss {loss}, gradient norm {float(norm)} at step {step + 1}; "
                                     "set trainer.skip_nonfinite=true to skip such steps")
        with warnings.catch_warnings():  # a skipped first step: torch warns that the schedule moved first
            warnings.simplefilter("ignore", UserWarning)
            sched.step()
        opt.zero_grad(set_to_none=True)
        done = step + 1
        result.step = done
        result.losses.append(loss)
        run_log.advance(loss=loss)
        if done % t.log_every == 0 or done == stop:
            scalars = terms | {"lr": sched.get_last_lr()[0], "grad_norm": float(norm), "skipped": result.skipped,
                               "steps_per_s": (done - start) / (time.perf_counter() - t0)}
            run_log.write(done, scalars | (task.extra_scalars() if task.extra_scalars else {}))
        if task.after_step is not None:  # before the checkpoint: what it updates (an EMA) is in that checkpoint
            task.after_step(done, acc.unwrap_model(model))
        if done % t.checkpoint_every == 0 or done == stop:
            result.checkpoint = ckpt.save(done)
    run_log.close()
    if result.step >= t.max_steps:
        result.model_dir = _finish(acc, task, model, out)
    return result


def _accumulate(acc, task: Task, model, loader, t: TrainerConfig, step: int) -> dict[str, float]:
    """Forward + backward of the `grad_accum` micro-batches of one optimizer step; -> loss terms (process mean)."""
    totals: dict[str, float] = {}
    for micro in range(t.grad_accum):
        items = next(loader)
        gen = seeded(t.seed, step, micro * acc.num_processes + acc.process_index)
        last = micro == t.grad_accum - 1
        sync = contextlib.nullcontext() if last else acc.no_sync(model)
        with sync:
            with acc.autocast():
                terms = task.loss(model, items, gen)
            acc.backward(terms["loss"] / t.grad_accum)
        for k, v in terms.items():
            totals[k] = totals.get(k, 0.0) + float(v.detach()) / t.grad_accum
    if acc.num_processes > 1:
        keys = sorted(totals)
        mean = acc.reduce(torch.tensor([totals[k] for k in keys], device=acc.device), "mean")
        totals = dict(zip(keys, mean.tolist()))
    return totals


def _finish(acc, task: Task, model, out: Path) -> Path | None:
    """`<output_dir>/model` from `task.save_model`, written beside and renamed (atomic)."""
    acc.wait_for_everyone()
    if task.save_model is None:
        return None
    final = out / "model"
    if acc.is_main_process:
        with atomic_dir(final) as tmp:
            task.save_model(acc.unwrap_model(model), tmp)
    acc.wait_for_everyone()
    return final
