"""Training entry point: `python -m camera_video.train model=full data=mixed trainer=default`.

The Hydra `main` only composes the config; `train(cfg)` does the work and is what tests call. Every
random draw of a step (data order, clip choice, noise, timesteps) is derived from (seed, step, rank),
so a run resumed from a checkpoint continues bit-identically.
"""

from __future__ import annotations

import contextlib
import logging
import math
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Sampler

from .checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from .config import TrainConfig, to_schema
from .data import PromptEmbeddings, build_datasets, collate, prepare_batch, seeded
from .loss import i2v_loss
from .models import BASE_5B_I2V, BASE_SMALL, BASE_TINY, SCHEDULER_5B_I2V, CameraControlConfig, parameter_report
from .models.build import build_camera_transformer, load_camera_weights

log = logging.getLogger(__name__)
BASES = {"5b_i2v": BASE_5B_I2V, "small": BASE_SMALL, "tiny": BASE_TINY}


class StepBatchSampler(Sampler):
    """Yields (epoch, index) batches for micro-steps [start, stop): epoch-wise permutations seeded by
    (seed, epoch), each process taking its own slice of every global batch."""

    def __init__(self, size: int, batch_size: int, seed: int, start: int, stop: int, rank: int = 0, world: int = 1):
        self.size, self.batch, self.seed, self.start, self.stop = size, batch_size, seed, start, stop
        self.rank, self.world = rank, world

    def __len__(self) -> int:
        return self.stop - self.start

    def __iter__(self):
        per_global = self.batch * self.world
        for micro in range(self.start, self.stop):
            items = []
            first = micro * per_global + self.rank * self.batch
            for k in range(first, first + self.batch):
                epoch, pos = divmod(k, self.size)
                perm = torch.randperm(self.size, generator=seeded(self.seed, epoch))
                items.append((epoch, int(perm[pos])))
            yield items


class EpochIndexed(torch.utils.data.Dataset):
    """Dataset view indexed by (epoch, index): sets the epoch of `VideoClipDataset`s before each item."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __getitem__(self, key):
        epoch, index = key
        for ds in getattr(self.dataset, "datasets", [self.dataset]):
            if hasattr(ds, "set_epoch"):
                ds.set_epoch(epoch)
        return self.dataset[index]


def camera_config(cfg: TrainConfig) -> CameraControlConfig:
    return CameraControlConfig(**cfg.model.camera)


def build_model(cfg: TrainConfig, dtype: torch.dtype = torch.float32, meta: bool = False):
    if cfg.model.base not in BASES:
        from wonderland.errors import InputError
        raise InputError(None, "model.base", f"unknown base {cfg.model.base!r}; expected one of {list(BASES)}")
    with torch.random.fork_rng():  # a random base (no `pretrained`) is a function of model.init_seed
        torch.manual_seed(cfg.model.init_seed)
        model = build_camera_transformer(camera_config(cfg), BASES[cfg.model.base],
                                         pretrained=None if meta else cfg.model.pretrained, dtype=dtype, meta=meta)
    if cfg.model.init_camera_weights and not meta:
        load_camera_weights(model, cfg.model.init_camera_weights)
    return model


def build_vae_and_scheduler(cfg: TrainConfig):
    from diffusers import CogVideoXDPMScheduler

    from wonderland.vae import build_tiny_vae, load_vae

    pretrained = cfg.model.pretrained
    if pretrained is not None:
        scheduler = CogVideoXDPMScheduler.from_pretrained(pretrained, subfolder="scheduler")
        vae = load_vae(pretrained) if cfg.data.kind != "cache" else None
    else:  # random/tiny runs: the tiny VAE (seeded, so every run and the cache agree)
        scheduler = CogVideoXDPMScheduler(**SCHEDULER_5B_I2V)
        with torch.random.fork_rng():
            torch.manual_seed(cfg.data.seed)
            scale = {"scaling_factor": cfg.model.vae_scaling_factor} if cfg.model.vae_scaling_factor else {}
            vae = build_tiny_vae(cfg.data.height, cfg.data.width, **scale).eval().requires_grad_(False)
    return vae, scheduler


def make_optimizer(params, t) -> torch.optim.Optimizer:
    kw = dict(lr=t.lr, betas=tuple(t.betas), weight_decay=t.weight_decay)
    if not t.use_8bit_adam:
        return torch.optim.AdamW(params, **kw)
    try:
        import bitsandbytes as bnb
    except ImportError:
        raise ImportError("trainer.use_8bit_adam=true needs bitsandbytes "
                          "(pip install bitsandbytes; CUDA only)") from None
    return bnb.optim.AdamW8bit(params, **kw)


def dry_run(cfg: TrainConfig) -> dict:
    """Parameters of the configured model on `meta` and a memory estimate per GPU; allocates nothing."""
    from .memory import estimate_training_memory

    model = build_model(cfg, meta=True)
    counts = parameter_report(model)
    memory = estimate_training_memory(counts, model.config, cfg)
    for k, v in counts.items():
        print(f"{k:>16s}: {v:,}")
    for k, v in memory.items():
        print(f"{k:>16s}: {v / 2**30:.1f} GiB")
    return {"parameters": counts, "memory_bytes": memory}


def _resume_path(cfg: TrainConfig) -> Path | None:
    r = cfg.trainer.resume
    if r is None or r == "none":
        return None
    if r == "auto":
        found = list_checkpoints(Path(cfg.trainer.output_dir) / "checkpoints")
        return found[-1] if found else None
    return Path(r)


def train(cfg) -> dict:
    """Train the camera branches; returns {'step', 'loss' (last), 'losses' (this run's per step)}."""
    cfg = to_schema(cfg)
    t = cfg.trainer
    if t.dry_run:
        return dry_run(cfg)
    from accelerate import Accelerator
    from diffusers.optimization import get_scheduler

    accelerator = Accelerator(mixed_precision=t.mixed_precision, log_with="tensorboard", project_dir=t.output_dir)
    torch.manual_seed(t.seed)
    model = build_model(cfg, dtype=torch.bfloat16 if t.mixed_precision == "bf16" and cfg.model.pretrained else
                        torch.float32)
    for p in model.parameters():  # trainable weights stay fp32 (autocast handles compute), base may be bf16
        if p.requires_grad:
            p.data = p.data.float()
    if t.gradient_checkpointing:
        model.enable_gradient_checkpointing()
    vae, scheduler = build_vae_and_scheduler(cfg)
    vae = vae.to(accelerator.device) if vae is not None else None
    c = model.config
    prompts = PromptEmbeddings(cfg.data.prompt_cache, c.max_text_seq_length, c.text_embed_dim, cfg.data.seed)
    train_set, val_set = build_datasets(cfg.data)

    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], t)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=t.warmup_steps)
    model, optimizer, lr_scheduler = accelerator.prepare(model, optimizer, lr_scheduler)
    core = accelerator.unwrap_model(model)
    ckpt_dir = Path(t.output_dir) / "checkpoints"
    start = 0
    if (path := _resume_path(cfg)) is not None:
        start = load_checkpoint(path, core, optimizer, lr_scheduler)
        log.info("resumed from %s at step %d", path, start)
    accelerator.init_trackers("camera_video")

    sampler = StepBatchSampler(len(train_set), t.batch_size, t.seed, start * t.grad_accum, t.steps * t.grad_accum,
                               accelerator.process_index, accelerator.num_processes)
    loader = iter(DataLoader(EpochIndexed(train_set), batch_sampler=sampler, num_workers=t.num_workers,
                             collate_fn=collate))
    model.train()
    losses: list[float] = []
    for step in range(start, t.steps):
        total = 0.0
        for micro in range(t.grad_accum):
            gen = seeded(t.seed, step * t.grad_accum + micro, accelerator.process_index)
            inputs = prepare_batch(next(loader), prompts, vae, gen)
            inputs = {k: v.to(accelerator.device) for k, v in inputs.items()}
            sync = contextlib.nullcontext() if micro == t.grad_accum - 1 else accelerator.no_sync(model)
            with sync, accelerator.autocast():
                loss = i2v_loss(model, scheduler, inputs, gen) / t.grad_accum
                accelerator.backward(loss)
            total += loss.item()
        if t.max_grad_norm > 0:
            accelerator.clip_grad_norm_(model.parameters(), t.max_grad_norm)
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(total)
        if not math.isfinite(total):
            raise FloatingPointError(f"loss is {total} at step {step}")
        if (step + 1) % t.log_every == 0 or step == start:
            accelerator.log({"train/loss": total, "lr": lr_scheduler.get_last_lr()[0]}, step=step + 1)
            log.info("step %d loss %.4f", step + 1, total)
        if accelerator.is_main_process and ((step + 1) % t.checkpoint_every == 0 or step + 1 == t.steps):
            save_checkpoint(ckpt_dir, step + 1, core, optimizer, lr_scheduler, t.keep_last)
        if t.val_every and (step + 1) % t.val_every == 0 and accelerator.is_main_process and val_set is not None:
            from .validate import validate

            validate(core, vae, scheduler, val_set, prompts, cfg, step + 1, accelerator)
    accelerator.end_training()
    return {"step": t.steps, "loss": losses[-1] if losses else None, "losses": losses}


def main() -> None:
    import hydra

    @hydra.main(config_path="../configs/camera_video", config_name="config", version_base="1.3")
    def _main(cfg) -> None:
        logging.basicConfig(level=logging.INFO)
        train(cfg)

    _main()


if __name__ == "__main__":
    main()
