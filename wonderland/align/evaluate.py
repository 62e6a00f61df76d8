"""Held-out scores of the camera model and LaLRM of `Parts`, before / after alignment (no gradient).

Per held-out clip (its first frame and cameras), a sampled video with `steps` steps and seed `seed + i`:
  consistency_psnr  video vs the render of its own Gaussians at the same cameras (what alignment optimises)
  gaussians_psnr    the Gaussians' renders vs the ground-truth frames at the ground-truth cameras
  video_psnr        the generated video vs the ground truth
  denoising_loss    the generator's diffusion loss on the real clip (fixed timesteps and noise)
Frames 1.. only (frame 0 is the input). With `cameras=True`, camera errors of the video (`camera_scores`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from wonderland.geometry import Cameras, normalize_cameras, plucker_embedding
from wonderland.metrics import psnr

from .rollout import decode_with_grad, rollout

CAMERA_KEYS = ("rot_err_deg", "trans_err", "registered_frames", "sfm_failures")


def camera_scores(frames: Tensor, c2w: Tensor, K: Tensor, num_frames: int = 16, upscale: int = 4,
                  estimate=None) -> dict[str, float]:
    """Camera errors of a video against the cameras it was generated along, as `wonderland-eval` scores them:
    COLMAP poses (`wonderland.sfm.estimate_poses`, or `estimate(frames, K) -> SfMResult`) on the first
    `num_frames` frames (F, 3, H, W) with the known intrinsics K (3, 3), compared with c2w (F, 4, 4) by
    `wonderland.metrics.camera_errors` (both paths relative to their first registered frame, each scaled to unit
    extent: the similarity SfM leaves free is factored out). Returned per registered frame, as means:
      rot_err_deg        geodesic angle between the relative rotations, degrees
      trans_err          distance between the normalised camera centres (unit: the path's extent)
      registered_frames  fraction of the frames COLMAP placed
      sfm_failures       1 when COLMAP built no model (rot_err_deg, trans_err NaN), else 0
    COLMAP's SIFT finds no matches on 32 x 48 frames (even ground-truth ones), so the frames are first upscaled
    `upscale` x (bicubic) with K scaled alike (pixel centres at i + 0.5 map to s i + s / 2: K[:2] * s exactly)."""
    from wonderland.metrics import camera_errors
    from wonderland.sfm import estimate_poses

    frames, c2w = frames[:num_frames].float().cpu(), c2w[:num_frames].double().cpu()
    K = K.double().cpu().clone()
    if upscale > 1:
        frames = F.interpolate(frames, scale_factor=upscale, mode="bicubic", align_corners=False).clamp(0, 1)
        K[:2] *= upscale
    sfm = (estimate or estimate_poses)(frames, K)
    errs = camera_errors(sfm.c2w, c2w, sfm.registered)
    rot = torch.tensor(errs["per_frame_rot_err"], dtype=torch.float64)
    trans = torch.tensor(errs["per_frame_trans_err"], dtype=torch.float64)
    n = len(c2w) - errs["num_unregistered"]
    return {"rot_err_deg": math.degrees(float(rot.nanmean())) if n else math.nan,
            "trans_err": float(trans.nanmean()) if n else math.nan,
            "registered_frames": n / len(c2w), "sfm_failures": float(n == 0)}


def mean_scores(per_clip: list[dict[str, float]]) -> dict[str, float]:
    """Mean over clips; NaN values (camera errors where COLMAP failed) are left out and `sfm_failures` summed."""
    out = {}
    for k in per_clip[0]:
        v = torch.tensor([c[k] for c in per_clip], dtype=torch.float64)
        out[k] = float(v.sum()) if k == "sfm_failures" else float(v.nanmean())
    return out


@torch.no_grad()
def held_out_scores(parts, clips, steps: int = 4, seed: int = 0, background: float = 1.0,
                    keep: list | None = None, cameras: bool = False) -> dict[str, float]:
    """parts: `train.Parts`; clips: dataset items {frames (F, 3, H, W), c2w, K, key} -> mean scores. `keep`: a list
    that receives (truth, video, render) (F, 3, H, W) each per clip. `cameras`: add `CAMERA_KEYS` (COLMAP, about
    2 s a clip) for the video and, as the method's own floor, `truth_*` for the ground-truth frames."""
    from camera_video.data import collate, prepare_batch
    from camera_video.loss import i2v_loss
    from wonderland.render import render
    from wonderland.vae import encode_video

    model, device = parts.transformer, next(parts.lalrm.parameters()).device
    model.eval()
    per_clip = []
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
        scores = {k: float(v) for k, v in scores.items()}
        if cameras:
            c2w, K = batch["c2w"][0], batch["K"][0, 0]  # (F, 4, 4), (3, 3) of the frames' pixels
            scores |= camera_scores(video, c2w, K)
            scores |= {f"truth_{k}": v for k, v in camera_scores(truth, c2w, K).items()}
        per_clip.append(scores)
    return mean_scores(per_clip)
