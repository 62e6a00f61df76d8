"""`python -m lalrm.stitching pretrain ...`: train the RGB-input LRM on frames, the stand-in for a downloaded
feed-forward 3D model (AnySplat, VGGT) that the stitching then reuses.

It is the LaLRM's own recipe on the LaLRM's own config (`configs/lalrm`, schema `lalrm.config.TrainConfig`: the
same model, stage, data, loss, trainer and optim keys) with the RGB twin as the model: frames and cameras in,
renders at the supervision views against the ground truth, on the shared loop (`wonderland.training.fit`). The
frames come from the captured clips on the fly, so `data.latents` must be `vae` (no VAE is run) and generated
clips are not read.
"""

from __future__ import annotations

from dataclasses import asdict

import torch

from wonderland.checks import check_dir
from wonderland.errors import InputError
from wonderland.geometry import Cameras
from wonderland.training import FitResult, Task, fit, make_accelerator

from ..config import TrainConfig, build_config
from ..data import build_stream, collate
from ..loss import build_loss
from ..stages import init_from_stage, weights_file
from .rgb_lrm import RGBLRM


def check_pretrain(cfg: TrainConfig) -> TrainConfig:
    if cfg.data.latents != "vae":
        raise InputError(None, "data.latents", "the RGB LRM reads frames: expected vae (clips decoded on the fly; "
                         "no VAE runs)", value=cfg.data.latents)
    if cfg.data.generated.root is not None:
        raise InputError(None, "data.generated.root", "the RGB LRM trains on captured clips only; expected null",
                         value=cfg.data.generated.root)
    for name, src in cfg.data.sources.items():  # every source is opened for its frames
        check_dir(src.root, f"data.sources.{name}.root")
    if cfg.stage.init_from is not None:  # pretrain's stages default to null: a given path must hold weights
        weights_file(cfg.stage.init_from)
    return cfg


def build_pretrain_config(cfg) -> TrainConfig:
    return check_pretrain(build_config(cfg))


def make_loss(cfg: TrainConfig, device: torch.device):
    """frames + cameras -> Gaussians -> renders at the supervision views -> the LaLRM's loss terms."""
    from wonderland.render import render_batch

    loss_fn = build_loss(cfg.loss).to(device)

    def loss(model, items: list[dict], generator: torch.Generator) -> dict[str, torch.Tensor]:
        stack = lambda k: torch.stack([it[k] for it in items]).to(device)  # noqa: E731
        frames = stack("frames")  # (B, F, 3, H, W)
        h, w = frames.shape[-2:]
        hs, ws = items[0]["sup_frames"].shape[-2:]
        pred = model(frames, Cameras(stack("c2w"), stack("K"), h, w))
        with torch.autocast(device.type, enabled=False):
            g = pred.gaussians
            rgb = render_batch(g, Cameras(stack("sup_c2w"), stack("sup_K"), hs, ws), cfg.loss.background,
                               deferred=True).rgb  # (B, V, 3, hs, ws)
            return loss_fn(rgb, stack("sup_frames"), g.opacities, pred.distance.float(), g.colors)

    return loss


def pretrain(cfg) -> FitResult | None:
    """Train (or resume) the RGB LRM; the model is `<trainer.output_dir>/model` (`RGBLRM.from_pretrained`)."""
    cfg = cfg if isinstance(cfg, TrainConfig) else build_pretrain_config(cfg)
    check_pretrain(cfg)
    if cfg.trainer.dry_run:
        with torch.device("meta"):
            model = RGBLRM(**cfg.model)
        grid = model.token_grid(cfg.num_frames, cfg.stage.height, cfg.stage.width)
        print(f"RGB LRM dry run: {sum(p.numel() for p in model.parameters()):,} parameters, token grid {grid}")
        return None
    acc = make_accelerator(cfg.trainer)
    model = RGBLRM(**cfg.model)
    if cfg.stage.init_from is not None:
        init_from_stage(model, cfg.stage.init_from)
    task = Task("rgb_lrm", model, build_stream(cfg), make_loss(cfg, acc.device), collate=collate,
                save_model=lambda m, d: m.save_pretrained(d))
    return fit(acc, task, cfg.trainer, cfg.optim, config=asdict(cfg))
