"""LaLRM training: `python -m lalrm.train stage=highres model=full data=mixed` (Hydra, configs/lalrm).

Several processes: `accelerate launch --multi_gpu --num_processes N -m lalrm.train ...` (DDP; NCCL on GPUs,
gloo on a CPU-only machine), or `--config_file configs/accelerate/fsdp.yaml` for FSDP of the full model.

The entry point only parses and checks the config; `train(cfg)` does the work and is what tests call. It adds
the LaLRM's model, data and loss to the shared training loop (`wonderland.training.fit`): checkpoints,
`trainer.resume=auto`, the run log, mixed precision and the final `<output_dir>/model` come from there.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import torch
from omegaconf import DictConfig

from wonderland.io import atomic_open
from wonderland.training import FitResult, Task, fit, make_accelerator

from .config import TrainConfig, build_config
from .data import build_stream, collate, prepare_batch
from .loss import build_loss
from .model import LaLRM
from .sizes import describe_stage, format_report
from .stages import init_from_stage, weights_file

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs" / "lalrm"


def build_vae(cfg: TrainConfig, device: torch.device):
    """The frozen VAE encoder for on-the-fly latents: from `vae.path`, or a seeded tiny one (synthetic)."""
    from wonderland.vae import build_tiny_vae, load_vae

    if cfg.vae.path is not None:
        return load_vae(cfg.vae.path).to(device)
    if cfg.vae.tiny:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.trainer.seed)
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


def make_loss(cfg: TrainConfig, vae, device: torch.device):
    """The LaLRM's step: latents + cameras -> Gaussians -> renders at the supervision views -> loss terms.
    The network runs under the loop's autocast; rendering and the loss run in fp32."""
    from wonderland.render import render_batch

    loss_fn = build_loss(cfg.loss).to(device)

    def loss(model, items: list[dict], generator: torch.Generator) -> dict[str, torch.Tensor]:
        batch = prepare_batch(items, vae, device)
        pred = model(batch["latents"], batch["cameras"])
        with torch.autocast(device.type, enabled=False):
            g = pred.gaussians
            rgb = render_batch(g, batch["sup_cameras"], cfg.loss.background, deferred=True).rgb  # (B, V, 3, h, w)
            return loss_fn(rgb, batch["sup_frames"], g.opacities, pred.distance.float(), g.colors)

    return loss


def train(cfg: DictConfig | TrainConfig) -> FitResult | None:
    """Train one stage (or resume it). The final model is `<output_dir>/model` (`result.model_dir`) once
    `trainer.max_steps` is reached; `trainer.stop_after` ends an invocation early (resume with the same command)."""
    cfg = cfg if isinstance(cfg, TrainConfig) else build_config(cfg)
    if cfg.trainer.dry_run:
        dry_run(cfg)
        return None
    if cfg.stage.init_from is not None:  # a missing previous stage: one line before anything is built or written
        weights_file(cfg.stage.init_from)  # (not in build_config: the highres stage's default composes anywhere)
    acc = make_accelerator(cfg.trainer)
    model = LaLRM(**cfg.model)
    if cfg.stage.init_from is not None:
        init_from_stage(model, cfg.stage.init_from)
    vae = build_vae(cfg, acc.device) if cfg.data.latents == "vae" else None
    task = Task("lalrm", model, build_stream(cfg, vae=vae), make_loss(cfg, vae, acc.device), collate=collate,
                save_model=lambda m, d: m.save_pretrained(d))
    result = fit(acc, task, cfg.trainer, cfg.optim, config=asdict(cfg))
    if result.model_dir is not None:
        check_replicas(acc, model)
        if acc.is_main_process:
            with atomic_open(Path(cfg.trainer.output_dir) / "config.json") as f:
                json.dump({"version": cfg.version, "stage": cfg.stage.name, "steps": result.step,
                           "processes_in_sync": acc.num_processes}, f)
    return result


def main(argv: list[str] | None = None) -> int:
    from wonderland.hydra_entry import hydra_main

    return hydra_main(argv, prog="lalrm.train", config_dir=CONFIG_DIR, build=build_config, run=train)


if __name__ == "__main__":
    sys.exit(main())
