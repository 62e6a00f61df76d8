"""The joint training objective of the video model and the pose stream (VideoRFSplat, SPEC.md section 8).

- Pose targets: one Plücker ray map per latent frame at latent resolution, (B, T, 6, h, w): latent frame k
  is given the camera of video frame 4k (frame 0 for k = 0, the last frame of each 4-frame group after:
  ours, the paper publishes no code), its intrinsics scaled to the latent grid (`pose_targets`).
- Pose loss: flow matching on the same time axis as the sampler (t in [0, 1], 1 = noise):
  x_t = (1 - t) x_0 + t eps, the pose stream predicts the velocity eps - x_0, loss = MSE.
- Video loss: `loss.i2v_loss`'s v-prediction objective (same draws in the same order: video timesteps, then
  noise), the pose stream's noisy rays passed beside it; the pose timesteps are drawn independently after.
- total = video_weight * video + pose_weight * pose. Camera-conditioned (batch has `plucker`) or pose-free.
"""

from __future__ import annotations

import torch
from torch import Tensor

from wonderland.geometry import plucker_embedding

from .loss import i2v_model_input
from .models.rotary import rotary_embedding


def pose_targets(c2w: Tensor, K: Tensor, height: int, width: int, latent_frames: int) -> Tensor:
    """c2w (B, F, 4, 4) normalised, K (B, F, 3, 3) of (height, width) images -> (B, T, 6, height/8, width/8)."""
    idx = torch.tensor([4 * k for k in range(latent_frames)])
    if int(idx[-1]) >= c2w.shape[1]:
        raise ValueError(f"{c2w.shape[1]} frames cannot give {latent_frames} latent frames (4k + 1 frames)")
    scale = torch.tensor([[1 / 8, 0, 0], [0, 1 / 8, 0], [0, 0, 1]], dtype=K.dtype, device=K.device)
    return plucker_embedding(c2w[:, idx], scale @ K[:, idx], height // 8, width // 8)


def joint_loss(model, scheduler, batch: dict[str, Tensor], generator: torch.Generator | None = None,
               video_weight: float = 1.0, pose_weight: float = 1.0) -> dict[str, Tensor]:
    """batch: `i2v_loss`'s (latents (B, 16, T, h, w), image_latents, plucker or None, prompt_embeds) plus
    pose_rays (B, T, 6, h, w) (`pose_targets`) -> {"loss", "video", "pose"} (scalars)."""
    latents = batch["latents"].permute(0, 2, 1, 3, 4)  # (B, T, 16, h, w)
    image_latents = batch["image_latents"].permute(0, 2, 1, 3, 4)
    b, t, _, h, w = latents.shape
    core = getattr(model, "module", model)
    device, dtype = latents.device, core.dtype
    timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (b,), generator=generator)
    noise = torch.randn(latents.shape, generator=generator).to(latents)
    rays = batch["pose_rays"].to(device, torch.float32)
    pose_t = torch.rand(b, generator=generator).to(device)  # independent of the video's timesteps
    pose_noise = torch.randn(rays.shape, generator=generator).to(rays)
    tt = pose_t[:, None, None, None, None]
    noisy_rays = (1 - tt) * rays + tt * pose_noise

    timesteps = timesteps.to(device)
    noisy = scheduler.add_noise(latents, noise, timesteps)
    plucker = batch.get("plucker")
    pred, pose_pred = model(i2v_model_input(noisy, image_latents).to(dtype), batch["prompt_embeds"].to(device, dtype),
                            timesteps, plucker=None if plucker is None else plucker.to(device, dtype),
                            image_rotary_emb=rotary_embedding(core.config, t, h, w, device),
                            pose_rays=noisy_rays.to(dtype), pose_time=pose_t.to(dtype))
    x0_pred = scheduler.get_velocity(pred.float(), noisy, timesteps)
    weights = 1 / (1 - scheduler.alphas_cumprod.to(device, torch.float32)[timesteps])
    video = (weights[:, None] * (x0_pred - latents).square().flatten(1)).mean()
    pose = (pose_pred.float() - (pose_noise - rays)).square().mean()
    return {"loss": video_weight * video + pose_weight * pose, "video": video, "pose": pose}


__all__ = ["joint_loss", "pose_targets"]
