"""Keyframe interpolation: slerp for rotations, Catmull-Rom splines for camera centres, linear K.

Used for sparse user keyframes and to resample a trajectory to the model's frame count.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..geometry import Cameras, matrix_to_quat, quat_to_matrix, slerp


def _catmull_rom(p: Tensor, seg: Tensor, s: Tensor) -> Tensor:
    """Uniform Catmull-Rom through points p (K, 3); segment index seg (N,), local parameter s (N,)."""
    n = len(p)
    i0, i1 = (seg - 1).clamp(0, n - 1), seg
    i2, i3 = (seg + 1).clamp(0, n - 1), (seg + 2).clamp(0, n - 1)
    p0, p1, p2, p3 = p[i0], p[i1], p[i2], p[i3]
    s = s[:, None]
    s2, s3 = s * s, s * s * s
    return 0.5 * (2 * p1 + (p2 - p0) * s + (2 * p0 - 5 * p1 + 4 * p2 - p3) * s2 + (3 * p1 - p0 - 3 * p2 + p3) * s3)


def interpolate_keyframes(keys: Cameras, num_frames: int, times: Tensor | None = None) -> Cameras:
    """Cameras (num_frames,) passing through the K keyframes at `times` (increasing, default uniform in [0,1])."""
    k = len(keys)
    if k == 1:
        return Cameras(keys.c2w.expand(num_frames, 4, 4).clone(), keys.K.expand(num_frames, 3, 3).clone(),
                       keys.height, keys.width)
    dt = keys.c2w.dtype
    times = torch.linspace(0, 1, k, dtype=dt) if times is None else torch.as_tensor(times, dtype=dt)
    if times.shape != (k,) or not (times[1:] > times[:-1]).all():
        raise ValueError("keyframe times must be strictly increasing, one per keyframe")
    t = torch.linspace(float(times[0]), float(times[-1]), num_frames, dtype=dt)
    seg = (torch.searchsorted(times, t, right=True) - 1).clamp(0, k - 2)
    s = (t - times[seg]) / (times[seg + 1] - times[seg])
    q = matrix_to_quat(keys.c2w[:, :3, :3])
    R = quat_to_matrix(slerp(q[seg], q[seg + 1], s))
    centers = _catmull_rom(keys.centers, seg, s)
    c2w = torch.eye(4, dtype=dt).repeat(num_frames, 1, 1)
    c2w[:, :3, :3], c2w[:, :3, 3] = R, centers
    K = keys.K[seg] * (1 - s)[:, None, None] + keys.K[seg + 1] * s[:, None, None]
    return Cameras(c2w, K, keys.height, keys.width)


def resample(cams: Cameras, num_frames: int) -> Cameras:
    """The same path at another frame count (uniform in frame index)."""
    if len(cams) == num_frames:
        return cams
    return interpolate_keyframes(cams, num_frames)
