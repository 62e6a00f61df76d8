"""Asynchronous sampling of the pose stream (VideoRFSplat, SPEC.md section 8): the poses run ahead.

Times are normalised to [0, 1], 1 = pure noise (the video's diffusers timestep / num_train_timesteps; the
pose stream is a flow-matching model on that same axis). At every step the pose stream is at

    t_R = max(t_I - delta, 0)

so it is clean (t_R = 0) `delta` before the video, and the almost-clean poses steer the last part of the
video's denoising. delta = 0 is synchronous sampling (both streams at one time: the paper's comparison,
whose poses oscillate while t > 0.85); camera-conditioned generation is t_R = 0 throughout (the user's
poses, clean, `mode="conditioned"`).

Grid (ours, the paper publishes none): the image's evaluation times t_I[0..n-1] then t_I[n] = 0. Both
streams start from pure noise, so t_R[0] = t_I[0]; from then on t_R[i] = max(t_I[i] - delta, 0): the pose's
first Euler step is the longer one (t_I[0] -> t_I[1] - delta). Poses step t_R[i] -> t_R[i+1] with the pose
stream's velocity evaluated at t_R[i].
"""

from __future__ import annotations

import torch
from torch import Tensor

MODES = ("async", "sync", "conditioned")


def pose_time(t_image: Tensor, delta: float = 0.2) -> Tensor:
    """t_R = max(t_I - delta, 0), elementwise (t normalised, 1 = noise)."""
    if not 0 <= delta <= 1:
        raise ValueError(f"delta must be in [0, 1], got {delta}")
    return (t_image - delta).clamp_min(0)


def pose_grid(image_times: Tensor, delta: float = 0.2, mode: str = "async") -> tuple[Tensor, Tensor]:
    """image_times (n,) normalised evaluation times of the video sampler, decreasing -> (t_I (n+1,), t_R (n+1,)):
    both with the final 0 appended; t_R as in the module docstring (`mode`: async with `delta`, sync = delta 0,
    conditioned = all zero)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    t_image = torch.cat([image_times.double().flatten(), image_times.new_zeros(1, dtype=torch.float64)])
    if mode == "conditioned":
        return t_image, torch.zeros_like(t_image)
    t_pose = pose_time(t_image, 0.0 if mode == "sync" else delta)
    t_pose[0] = t_image[0]
    return t_image, t_pose


def scheduler_times(timesteps: Tensor, num_train_timesteps: int) -> Tensor:
    """A diffusers scheduler's timesteps (n,) (0..num_train_timesteps-1, decreasing) -> normalised times (n,)."""
    return timesteps.double() / num_train_timesteps


__all__ = ["MODES", "pose_time", "pose_grid", "scheduler_times"]
