"""Camera-trajectory errors of estimated poses against the given ones (SPEC section 4).

Both trajectories are made relative to a reference frame (frame 0) and each is scaled by its own
largest camera-centre distance from the reference camera (1 if it does not move), so the metric is
invariant to the global similarity (rotation, translation, scale) that SfM leaves free. Then
RotErr = sum over frames of the geodesic angle between the relative rotations (radians) and
TransErr = sum over frames of the distances between the normalised camera centres.

Unregistered frames (SfM could not place them) are counted in `num_unregistered`, get NaN per-frame
errors, and are handled by an explicit policy:
  - "exclude" (default): the sums run over registered frames; read them together with
    `num_unregistered` (the eval summary reports both).
  - "penalize": each unregistered frame adds the largest possible error, pi radians and 2 (the
    farthest two centres inside the unit ball around the reference camera can be apart).
The reference is frame 0 when it is registered, else the first registered frame (`reference_frame`).
The normalisation scales are computed on the registered frames of both trajectories alike.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

from ..geometry import normalize_poses
from ..precision import full_precision

MAX_ROT_ERR = math.pi
MAX_TRANS_ERR = 2.0


@full_precision
def rotation_angle(Ra: Tensor, Rb: Tensor) -> Tensor:
    """Geodesic angle (radians) of Ra^T Rb, (..., 3, 3) -> (...).

    atan2(|skew part|, (trace - 1) / 2) instead of acos: acos is ill-conditioned near 0, where a
    barely non-orthonormal float32 rotation against itself would read ~3e-4 rad instead of 0.
    """
    M = Ra.transpose(-1, -2) @ Rb
    skew = torch.stack([M[..., 2, 1] - M[..., 1, 2], M[..., 0, 2] - M[..., 2, 0], M[..., 1, 0] - M[..., 0, 1]], -1)
    cos = (M.diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2
    return torch.atan2(skew.norm(dim=-1) / 2, cos)


def camera_errors(
    est_c2w: Tensor,  # (F, 4, 4) OpenCV c2w, any world frame and scale
    gt_c2w: Tensor,  # (F, 4, 4)
    registered: Tensor | None = None,  # (F,) bool; None = all frames registered
    unregistered: Literal["exclude", "penalize"] = "exclude",
) -> dict:
    """RotErr / TransErr and their per-frame terms; see the module docstring for the policy."""
    if est_c2w.shape != gt_c2w.shape or est_c2w.shape[-2:] != (4, 4) or est_c2w.ndim != 3:
        raise ValueError(f"need two (F, 4, 4) trajectories, got {tuple(est_c2w.shape)}, {tuple(gt_c2w.shape)}")
    if unregistered not in ("exclude", "penalize"):
        raise ValueError(f"unregistered must be 'exclude' or 'penalize', got {unregistered!r}")
    num_frames = est_c2w.shape[0]
    mask = torch.ones(num_frames, dtype=torch.bool) if registered is None else registered.bool().cpu()
    if mask.shape != (num_frames,):
        raise ValueError(f"registered must be ({num_frames},), got {tuple(mask.shape)}")
    idx = mask.nonzero().flatten()
    num_unregistered = num_frames - len(idx)

    rot = torch.full((num_frames,), float("nan"), dtype=torch.float64)
    trans = rot.clone()
    if len(idx):
        est, _ = normalize_poses(est_c2w[idx].detach().cpu().double())
        gt, _ = normalize_poses(gt_c2w[idx].detach().cpu().double())
        rot[idx] = rotation_angle(est[:, :3, :3], gt[:, :3, :3])
        trans[idx] = (est[:, :3, 3] - gt[:, :3, 3]).norm(dim=-1)

    rot_err, trans_err = rot[idx].sum().item(), trans[idx].sum().item()
    if unregistered == "penalize":
        rot_err += MAX_ROT_ERR * num_unregistered
        trans_err += MAX_TRANS_ERR * num_unregistered
    elif not len(idx):
        rot_err = trans_err = float("nan")  # nothing to measure: never a perfect 0
    return {
        "rot_err": rot_err,
        "trans_err": trans_err,
        "per_frame_rot_err": rot.tolist(),
        "per_frame_trans_err": trans.tolist(),
        "num_frames": num_frames,
        "num_unregistered": num_unregistered,
        "reference_frame": int(idx[0]) if len(idx) else None,
        "policy": unregistered,
    }
