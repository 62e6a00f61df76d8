"""Held-out scores of the camera model and LaLRM of `Parts`, before / after alignment (no gradient).

Per held-out clip (its first frame and cameras), a sampled video with `steps` steps and seed `seed + i`:
  consistency_psnr  video vs the render of its own Gaussians at the same cameras (what alignment optimises)
  gaussians_psnr    the Gaussians' renders vs the ground-truth frames at the ground-truth cameras
  video_psnr        the generated video vs the ground truth
  denoising_loss    the generator's diffusion loss on the real clip (fixed timesteps and noise)
Frames 1.. only (frame 0 is the input). Camera errors (COLMAP on the video) are not computed here.
"""

from __future__ import annotations

import torch

from wonderland.geometry import Cameras, normalize_cameras, plucker_embedding
from wonderland.metrics import psnr

from .rollout import decode_with_grad, rollout


@torch.no_grad()
def held_out_scores(parts, clips, steps: int = 4, seed: int = 0, background: float = 1.0,
                    keep: list | None = None) -> dict[str, float]:
    """parts: `train.Parts`; clips: dataset items {frames (F, 3, H, W), c2w, K, key} -> mean scores. `keep`: a list
    that receives (truth, video, render) (F, 3, H, W) each per clip."""
    from camera_video.data import collate, prepare_batch
    from camera_video.loss import i2v_loss
    from wonderland.render import render
    from wonderland.vae import encode_video

    model, device = parts.transformer, next(parts.lalrm.parameters()).device
    model.eval()
    totals: dict[str, float] = {}
    for i, item in enumerate(clips):
        batch = collate([item])
        frames = batch["frames"].to(device)  # (1, F, 3, H, W)
        _, f, _, h, w = frames.shape
        gen = torch.Generator().manual_seed(seed + i)
        cams, _ = normalize_cameras(Cameras(batch["c2w"].float(), batch["K"].float(), h, w))
        cams = cams.to(device)
        plucker = plucker_embedding(cams.c2w, cams.K, h, w)
        image_latents = encode_video(parts.vae, frames[:, :1], sample=True, generator=gen)
        text = parts.prompt
        if parts.guidance_scale > 1.0:
            text = torch.cat([parts.negative, parts.prompt])
        latents = rollout(model, parts.scheduler, image_latents, text, plucker, steps, [], parts.guidance_scale,
                          gen).latents
        video = decode_with_grad(parts.vae, latents)[0].clamp(0, 1)  # (F, 3, H, W)
        own = render(parts.lalrm(latents, cams).gaussians[0], cams[0], background).rgb.clamp(0, 1)
        truth = frames[0]
        if keep is not None:
            keep.append((truth.cpu(), video.cpu(), own.cpu()))
        scores = {"consistency_psnr": psnr(video[1:], own[1:]).mean(),
                  "gaussians_psnr": psnr(own[1:], truth[1:]).mean(), "video_psnr": psnr(video[1:], truth[1:]).mean()}
        prompts = lambda keys: parts.prompt.expand(len(keys), -1, -1)  # noqa: E731
        inputs = {k: v.to(device) for k, v in prepare_batch(batch, prompts, parts.vae, gen).items()}
        t = torch.linspace(100, 900, 4).long()
        scores["denoising_loss"] = torch.stack([i2v_loss(model, parts.scheduler, inputs, gen, timesteps=t[j:j + 1])
                                                for j in range(len(t))]).mean()
        for k, v in scores.items():
            totals[k] = totals.get(k, 0.0) + float(v) / len(clips)
    return totals
