"""Validation during training: the held-out denoising loss (fixed noise and timesteps, so numbers are
comparable across steps) and a few sampled clips along their own trajectories, written as videos."""

from __future__ import annotations

from pathlib import Path

import torch

from wonderland.geometry import Cameras
from wonderland.training import seeded

from .data import collate, prepare_batch
from .loss import i2v_loss


@torch.no_grad()
def held_out_loss(model, scheduler, dataset, prompts, vae=None, seed: int = 0, shuffle_cameras: bool = False,
                  batch_size: int = 4) -> float:
    """Mean denoising loss over `dataset` with noise/timesteps drawn from `seed`. `shuffle_cameras` rolls the
    Plücker maps across the batch (each clip gets another clip's trajectory)."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        gen = seeded(seed, start)
        inputs = prepare_batch(collate(items), prompts, vae, gen)
        if not hasattr(model, "camera"):  # a stock base (stage=base) takes no camera
            inputs.pop("plucker")
        elif shuffle_cameras:
            inputs["plucker"] = inputs["plucker"].roll(1, dims=0)
        loss = i2v_loss(model, scheduler, inputs, gen, per_sample=True)
        total, count = total + loss.sum().item(), count + len(items)
    model.train(was_training)
    return total / count


@torch.no_grad()
def validate(model, vae, scheduler, dataset, prompts, cfg, step: int, accelerator) -> None:
    from wonderland.video import write_video

    from .pipeline import CameraVideoPipeline

    v, was_training = cfg.validation, model.training
    loss = held_out_loss(model, scheduler, dataset, prompts, vae, seed=cfg.trainer.seed)
    accelerator.log({"val/loss": loss}, step=step)
    if vae is None or not hasattr(model, "camera") or v.clips == 0:
        return
    pipe = CameraVideoPipeline(vae=vae, transformer=model, scheduler=scheduler)
    pipe.set_progress_bar_config(disable=True)
    out_dir = Path(cfg.trainer.output_dir) / "validation" / f"step-{step:08d}"
    for i in range(min(v.clips, len(dataset))):
        item = dataset[i]
        if "frames" in item:
            image, h, w = item["frames"][0], *item["frames"].shape[-2:]
        else:  # a latent cache: the image is the decoded first latent frame
            from wonderland.vae import decode_latents

            image = decode_latents(vae, item["latents"][None, :, :1].to(vae.device))[0, 0]
            h, w = image.shape[-2:]
        cams = Cameras(item["c2w"], item["K"], h, w)
        text = prompts([item["key"]])
        out = pipe(image, cams, prompt_embeds=text, negative_prompt_embeds=prompts(["__null__"]),
                   num_inference_steps=v.inference_steps, seed=cfg.trainer.seed + i)
        write_video(out_dir / f"{item['key']}.mp4", out.frames[0])
    model.train(was_training)
