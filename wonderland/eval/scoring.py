"""Per-clip scores of the paper's protocol (SPEC section 4), as JSON-ready dicts for the results log.

- image scores (video task: the first 14 generated frames; 3d / recon: the rendered views) against
  ground truth: PSNR, SSIM and, when its weights are configured, LPIPS; per-frame lists for plots;
- camera scores (video task): COLMAP poses on the first 16 generated frames with the known
  intrinsics, RotErr / TransErr against the given trajectory, unregistered frames counted.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

from ..metrics import LPIPS, camera_errors, psnr, ssim

IMAGE_FRAMES = 14  # LPIPS / PSNR / SSIM on the first 14 generated frames
CAMERA_FRAMES = 16  # RotErr / TransErr over the first 16 frames


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


@torch.no_grad()
def image_scores(pred: Tensor, target: Tensor, lpips: LPIPS | None = None, batch_size: int = 4) -> dict:
    """pred, target: (F, 3, H, W) in [0, 1]. LPIPS runs `batch_size` frames at a time (VGG at 480x720
    holds ~90 MB of activations per image); without a model `lpips` is None (unavailable)."""
    if pred.shape != target.shape or pred.ndim != 4:
        raise ValueError(f"need two (F, 3, H, W) clips of one shape, got {tuple(pred.shape)}, {tuple(target.shape)}")
    per_psnr = psnr(pred, target).tolist()
    per_ssim = ssim(pred, target).tolist()
    out = {"psnr": _mean(per_psnr), "ssim": _mean(per_ssim), "lpips": None,
           "per_frame_psnr": per_psnr, "per_frame_ssim": per_ssim}
    if lpips is not None:
        device = next(lpips.parameters()).device
        per_lpips = torch.cat([lpips(p.to(device), t.to(device)).cpu()
                               for p, t in zip(pred.split(batch_size), target.split(batch_size))]).tolist()
        out.update(lpips=_mean(per_lpips), per_frame_lpips=per_lpips)
    return out


def camera_scores(frames: Tensor, gt_c2w: Tensor, K: Tensor, num_frames: int = CAMERA_FRAMES,
                  workdir: str | os.PathLike | None = None, unregistered: str = "exclude") -> dict:
    """frames (F, 3, H, W) in [0, 1] with pixel intrinsics K (3, 3); gt_c2w (F, 4, 4). Uses the first
    `num_frames`. `est_c2w` (null rows where unregistered) is kept so path plots can be drawn later."""
    from ..sfm import estimate_poses

    frames, gt_c2w = frames[:num_frames], gt_c2w[:num_frames]
    sfm = estimate_poses(frames, K, workdir=workdir)
    errs = camera_errors(sfm.c2w, gt_c2w, sfm.registered, unregistered=unregistered)
    return {**errs, "registered": sfm.registered.tolist(), "est_c2w": sfm.c2w.tolist(),
            "sfm_num_models": sfm.num_models, "sfm_num_points3d": sfm.num_points3d}
