"""LaLRM training: `python -m lalrm.train stage=highres model=full data=mixed` (Hydra, configs/lalrm).

Several processes: `accelerate launch --multi_gpu --num_processes N -m lalrm.train ...` (DDP; NCCL on GPUs,
gloo on a CPU-only machine; `--use_fsdp` for FSDP of the full model).

The entry point only composes the config; `train(cfg)` does the work and is what tests call.
accelerate handles devices, mixed precision (bf16 autocast on CUDA) and DDP (`accelerate launch`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig
from torch.utils.data import DataLoader

from wonderland.io import atomic_open

from .checkpoint import init_from_stage, latest_checkpoint, load_checkpoint, save_checkpoint
from .config import TrainConfig, build_config
from .data import StepBatchSampler, build_stream, collate, prepare_batch
from .loss import build_loss
from .model import LaLRM
from .sizes import describe_stage, format_report


def cosine_with_warmup(step: int, warmup: int, total: int, peak: float, floor: float) -> float:
    """Learning rate at `step`: linear warm-up to `peak`, then cosine down to `floor` at `total`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * progress))


def build_optimizer(model: LaLRM, cfg: TrainConfig) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW without weight decay on biases and norms; LambdaLR (factor of the peak lr) per optimizer step."""
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.optim.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.stage.lr,
                            betas=tuple(cfg.optim.betas))
    st = cfg.stage
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: cosine_with_warmup(
        s, cfg.optim.warmup_steps, cfg.total_steps, st.lr, st.min_lr) / st.lr)
    return opt, sched


def build_vae(cfg: TrainConfig, device: torch.device):
    """The frozen VAE encoder for on-the-fly latents: from `vae.path`, or a seeded tiny one (synthetic)."""
    from wonderland.vae import build_tiny_vae, load_vae

    if cfg.vae.path is not None:
        return load_vae(cfg.vae.path).to(device)
    if cfg.vae.tiny:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            vae = build_tiny_vae(cfg.stage.height, cfg.stage.width)
        return vae.eval().requires_grad_(False).to(device)
    return None


def dry_run(cfg: TrainConfig) -> str:
    report = format_report(cfg.stage.name, describe_stage(cfg.model, cfg.num_frames, cfg.stage.height,
                                                          cfg.stage.width))
    print(report)
    return report


def check_replicas(acc, model: torch.nn.Module) -> None:
    """Every process must hold the same weights (DDP's invariant); compares per-tensor sums across ranks.
    Skipped for sharded (FSDP) or single-process runs."""
    from accelerate.utils import DistributedType

    if acc.distributed_type not in (DistributedType.MULTI_GPU, DistributedType.MULTI_CPU):
        return
    sums = torch.stack([p.detach().float().sum() for p in model.parameters()])  # (P,)
    every = acc.gather(sums[None])  # (processes, P)
    if not torch.equal(every, every[:1].expand_as(every)):
        raise RuntimeError("model replicas diverged across processes")


class RunLog:
    """Scalars to TensorBoard and to `<output_dir>/log.jsonl` (main process only)."""

    def __init__(self, out: Path, enabled: bool):
        self.enabled, self.path = enabled, out / "log.jsonl"
        if enabled:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(out / "tensorboard"))

    def write(self, step: int, scalars: dict[str, float]) -> None:
        if not self.enabled:
            return
        for k, v in scalars.items():
            self.tb.add_scalar(k, v, step)
        with open(self.path, "a") as f:
            f.write(json.dumps({"step": step, **scalars}) + "\n")

    def close(self) -> None:
        if self.enabled:
            self.tb.close()


def train(cfg: DictConfig | TrainConfig) -> Path:
    """Train one stage; returns the folder of the final `save_pretrained` model (`<output_dir>/model`), or the
    checkpoint folder when `trainer.stop_after` ended this invocation early."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm import tqdm

    from wonderland.render import render_batch

    cfg = cfg if isinstance(cfg, TrainConfig) else build_config(cfg)
    if cfg.trainer.dry_run:
        dry_run(cfg)
        return Path(cfg.output_dir)
    tr, st = cfg.trainer, cfg.stage
    out, total = Path(cfg.output_dir), cfg.total_steps
    cuda = torch.cuda.is_available()
    # cpu=True without CUDA: under `accelerate launch --multi_gpu` / torchrun that is DDP over gloo
    acc = Accelerator(mixed_precision=tr.mixed_precision if cuda else "no", cpu=not cuda)
    if st.batch_size % acc.num_processes:
        raise ValueError(f"stage.batch_size {st.batch_size} is not divisible by {acc.num_processes} processes")
    set_seed(cfg.seed)

    # 1. model (stage initialisation), loss, optimizer, VAE, data stream
    model = LaLRM(**cfg.model)
    if st.init_from is not None:
        init_from_stage(model, st.init_from)
    if tr.gradient_checkpointing:
        model.enable_gradient_checkpointing()
    loss_fn = build_loss(cfg.loss).to(acc.device)
    opt, sched = build_optimizer(model, cfg)
    model, opt = acc.prepare(model, opt)
    acc.register_for_checkpointing(sched)  # stepped once per optimizer step, on every process
    vae = build_vae(cfg, acc.device) if cfg.data.latents == "vae" else None
    stream = build_stream(cfg)

    # 2. resume: model, optimizer, scheduler, RNG; the data position is the step
    ckpt_root, start = out / "checkpoints", 0
    resume = latest_checkpoint(ckpt_root) if tr.resume == "auto" else tr.resume
    if resume is not None:
        start = load_checkpoint(acc, Path(resume))
    loader = DataLoader(stream, batch_sampler=StepBatchSampler(start, total, st.batch_size // acc.num_processes,
                                                               acc.process_index, acc.num_processes),
                        num_workers=cfg.data.num_workers, collate_fn=collate)

    # 3. steps
    log = RunLog(out, acc.is_main_process)
    bar = tqdm(total=total, initial=start, disable=not (acc.is_main_process and tr.progress), desc=st.name)
    t0, done = time.perf_counter(), start
    for step, items in enumerate(loader, start):
        batch = prepare_batch(items, vae, acc.device)
        with acc.autocast():
            pred = model(batch["latents"], batch["cameras"])
        rgb = render_batch(pred.gaussians, batch["sup_cameras"], tr.background, deferred=True).rgb  # (B, V, 3, h, w)
        terms = loss_fn(rgb, batch["sup_frames"], pred.gaussians.opacities, pred.distance, pred.gaussians.colors)
        acc.backward(terms["loss"])
        if cfg.optim.grad_clip > 0:
            acc.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        bar.update(1)
        done = step + 1
        if done % tr.log_every == 0 or done == total:
            scalars = {k: acc.reduce(v.detach(), "mean").item() for k, v in terms.items()}
            scalars |= {"lr": sched.get_last_lr()[0], "steps_per_s": (done - start) / (time.perf_counter() - t0)}
            log.write(done, scalars)
            bar.set_postfix(loss=f"{scalars['loss']:.4f}", psnr=f"{scalars['psnr']:.2f}")
        stop = tr.stop_after is not None and done - start >= tr.stop_after
        if done % tr.checkpoint_every == 0 or done == total or stop:
            save_checkpoint(acc, ckpt_root, done, tr.keep_last)
        if stop:
            break
    bar.close()
    log.close()
    if done < total:  # stopped early (stop_after): resume with trainer.resume=auto
        return ckpt_root

    # 4. the final model, as a diffusers folder (atomic: written beside, then renamed)
    check_replicas(acc, model)
    final = out / "model"
    if acc.is_main_process:
        tmp = out / ".tmp-model"
        shutil.rmtree(tmp, ignore_errors=True)
        acc.unwrap_model(model).save_pretrained(tmp)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        with atomic_open(out / "config.json") as f:
            json.dump({"version": cfg.version, "stage": st.name, "steps": total,
                       "processes_in_sync": acc.num_processes}, f)
    acc.wait_for_everyone()
    return final


@hydra.main(config_path="../configs/lalrm", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    train(cfg)


if __name__ == "__main__":
    main()
