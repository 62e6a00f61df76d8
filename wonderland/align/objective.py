"""One alignment step's loss (train.py's module docstring has the formula); the pieces are rollout.py and
reward.py."""

from __future__ import annotations

import torch
from torch import Tensor

from wonderland.geometry import Cameras, normalize_cameras, plucker_embedding

from .reward import consistency, render_views
from .rollout import decode_with_grad, draw_schedule, rollout


def make_loss(cfg, parts, lpips, scorers: dict, device: torch.device):
    """-> loss(model, batch, generator) for `wonderland.training.Task`; batch: collated real clips
    {frames (B, F, 3, H, W), c2w (B, F, 4, 4), K (B, F, 3, 3), key}."""
    from camera_video.data import prepare_batch
    from camera_video.loss import i2v_loss
    from wonderland.vae import encode_video

    r, w = cfg.rollout, cfg.reward
    cfg_guided = parts.guidance_scale > 1.0

    def prompts(keys) -> Tensor:
        return parts.prompt.expand(len(keys), -1, -1)

    def loss(model, batch: dict, gen: torch.Generator) -> dict[str, Tensor]:
        frames = batch["frames"]
        b, f, _, h, wd = frames.shape
        terms: dict[str, Tensor] = {}
        total = torch.zeros((), device=device)
        # 1. the generator's own diffusion loss on the real clip
        if cfg.loss.gen > 0:
            inputs = {k: v.to(device) for k, v in prepare_batch(batch, prompts, parts.vae, gen).items()}
            terms["gen"] = i2v_loss(model, parts.scheduler, inputs, gen)
            total = total + cfg.loss.gen * terms["gen"]
        # 2. rollout from the clip's first frame along its (normalised) cameras
        cams, _ = normalize_cameras(Cameras(batch["c2w"].float(), batch["K"].float(), h, wd))
        cams = cams.to(device)
        plucker = plucker_embedding(cams.c2w, cams.K, h, wd)  # (B, F, 6, H, W)
        image_latents = encode_video(parts.vae, frames[:, :1].to(device), sample=True, generator=gen)
        text = prompts(range(b))
        if cfg_guided:
            text = torch.cat([parts.negative.expand(b, -1, -1), text])
        n, grad_steps = draw_schedule(r.min_steps, r.max_steps, r.grad_steps, r.last_step, gen)
        out = rollout(model, parts.scheduler, image_latents, text, plucker, n, grad_steps, parts.guidance_scale, gen)
        # 3. decode, reconstruct, render at `views` random frames, compare
        video = decode_with_grad(parts.vae, out.latents)  # (B, F, 3, H, W)
        views = torch.stack([torch.randperm(f, generator=gen)[:w.views] for _ in range(b)]).to(device)  # (B, V)
        picked = video[torch.arange(b, device=device)[:, None], views]  # (B, V, 3, H, W)
        if w.consistency > 0:
            renders = render_views(parts.lalrm, out.latents, cams, views, w.background)
            terms["consistency"] = consistency(picked, renders, lpips, w.lpips).mean()
            total = total - w.consistency * terms["consistency"]
        for name, score in scorers.items():
            terms[f"quality.{name}"] = score(picked.flatten(0, 1)).mean()
            total = total - w.quality[name] * terms[f"quality.{name}"]
        terms["rollout_steps"] = torch.tensor(float(n))
        return {"loss": total, **{k: v.detach() if k != "loss" else v for k, v in terms.items()}}

    return loss
