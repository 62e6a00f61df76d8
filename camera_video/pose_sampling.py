"""Joint sampling of video latents and pose ray maps (VideoRFSplat, SPEC.md section 8): the pieces
`CameraVideoPipeline` uses when `pose=` is given.

Modes (`pose_schedule.MODES`):
- `async` (default of a generated path) / `sync`: pose-free generation, the path comes out of the pose stream.
  The video is denoised by the pipeline's scheduler at times t_I; the ray maps (B, T, 6, h, w), one per latent
  frame at latent resolution, start from N(0, I) and take Euler steps of the flow-matching ODE the stream was
  trained on (`pose_loss`: x_t = (1 - t) x_0 + t eps, velocity eps - x_0) at t_R = max(t_I - delta, 0) (`sync`:
  delta = 0). Both streams run in the one transformer call per step (communication blocks).
- `conditioned`: the user's cameras; their ray maps enter the pose stream clean (t_R = 0 throughout) beside the
  camera branches.

Asynchronous CFG on the pose (`pose_guidance` s_p, default 1 = off). The papers we hold state only its purpose
("enables the clearer pose to better guide multi-view image generation", shared/papers/000_*: no formula), so
ours is: the unconditional prediction of the video is the video stream *without* the pose stream (which the
zero-initialised communication blocks make the plain video model), the conditional one is the joint prediction
with the pose at its (less noisy, asynchronous) time t_R:
    v_I = v_I(no pose) + s_p [v_I(pose at t_R) - v_I(no pose)]   (+ text guidance on top, as `camera_guided`)
one extra transformer pass per step when s_p != 1. The pose velocity itself is taken from the conditional text
half (the stream was trained without dropping the text, so the unconditional half has nothing to guide against).
"""

from __future__ import annotations

import torch
from torch import Tensor

from wonderland.geometry import Cameras, cameras_from_plucker, normalize_cameras
from wonderland.latents import SPATIAL_COMPRESSION
from wonderland.trajectories.interpolate import interpolate_keyframes

TEMPORAL_COMPRESSION = 4  # latent frame k <-> video frame 4k (`pose_loss.pose_targets`)


def pose_noise(batch: int, latent_frames: int, h: int, w: int, generator: torch.Generator | None,
               device) -> Tensor:
    """Initial ray maps (B, T, 6, h, w) ~ N(0, I), float32 (drawn after the video latents: same video noise)."""
    from diffusers.utils.torch_utils import randn_tensor

    return randn_tensor((batch, latent_frames, 6, h, w), generator=generator, device=device, dtype=torch.float32)


def euler_step(rays: Tensor, velocity: Tensor, t_now: float, t_next: float) -> Tensor:
    """One step of dx/dt = velocity from t_now to t_next (float32; a zero step once t_R reached 0)."""
    return rays + (t_next - t_now) * velocity.float()


def rays_to_cameras(rays: Tensor, height: int, width: int, num_frames: int) -> tuple[Cameras, Tensor]:
    """Final ray maps (B, T, 6, h, w) -> (normalised cameras (B, num_frames) of (height, width) images, ray-fit
    residual (B, T)). Each latent frame's camera is fitted (`cameras_from_plucker`) and is the camera of video frame
    4k; the frames between are interpolated (slerp, Catmull-Rom: `interpolate_keyframes`); then normalised as every
    pipeline camera is (frame 0 = identity, farthest centre at 1)."""
    keys, residual = cameras_from_plucker(rays.double())
    keys = keys.resize(keys.height * SPATIAL_COMPRESSION, keys.width * SPATIAL_COMPRESSION)
    if (keys.height, keys.width) != (height, width):
        keys = keys.resize(height, width)
    t = rays.shape[1]
    times = torch.arange(t, dtype=torch.float64) * TEMPORAL_COMPRESSION
    if int(times[-1]) + 1 != num_frames:
        raise ValueError(f"{t} latent frames do not give {num_frames} frames (4T - 3)")
    per_clip = [interpolate_keyframes(keys[b], num_frames, times) for b in range(rays.shape[0])]
    cams = Cameras(torch.stack([c.c2w for c in per_clip]), torch.stack([c.K for c in per_clip]), height, width)
    return normalize_cameras(cams)[0], residual


__all__ = ["TEMPORAL_COMPRESSION", "euler_step", "pose_noise", "rays_to_cameras"]
