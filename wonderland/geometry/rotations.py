"""Rotation helpers. Quaternions are (w, x, y, z) everywhere in this project (SPEC.md section 0)."""

from __future__ import annotations

import torch
from jaxtyping import Float
from kornia.geometry.conversions import quaternion_to_rotation_matrix, rotation_matrix_to_quaternion
from torch import Tensor

from ..precision import full_precision


@full_precision
def quat_to_matrix(q: Float[Tensor, "*b 4"]) -> Float[Tensor, "*b 3 3"]:
    """(w, x, y, z) quaternion (any norm) -> rotation matrix."""
    q = q / q.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return quaternion_to_rotation_matrix(q)


@full_precision
def matrix_to_quat(R: Float[Tensor, "*b 3 3"]) -> Float[Tensor, "*b 4"]:
    """Rotation matrix -> unit (w, x, y, z) quaternion with w >= 0 (a canonical sign)."""
    q = rotation_matrix_to_quaternion(R.contiguous(), eps=1e-12)
    q = q / q.norm(dim=-1, keepdim=True)
    return torch.where(q[..., :1] < 0, -q, q)


@full_precision
def axis_angle_to_matrix(axis: Float[Tensor, "*b 3"], angle: Float[Tensor, "*b"]) -> Float[Tensor, "*b 3 3"]:
    """Rodrigues' formula; `axis` need not be unit."""
    axis = axis / axis.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    x, y, z = axis.unbind(-1)
    zero = torch.zeros_like(x)
    Kx = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(*x.shape, 3, 3)
    s, c = torch.sin(angle)[..., None, None], torch.cos(angle)[..., None, None]
    eye = torch.eye(3, dtype=axis.dtype, device=axis.device).expand_as(Kx)
    return eye + s * Kx + (1 - c) * (Kx @ Kx)


def rotation_x(angle: float, dtype=torch.float64) -> Tensor:
    return axis_angle_to_matrix(torch.tensor([1.0, 0, 0], dtype=dtype), torch.tensor(angle, dtype=dtype))


def rotation_y(angle: float, dtype=torch.float64) -> Tensor:
    return axis_angle_to_matrix(torch.tensor([0, 1.0, 0], dtype=dtype), torch.tensor(angle, dtype=dtype))


@full_precision
def geodesic_angle(Ra: Float[Tensor, "*b 3 3"], Rb: Float[Tensor, "*b 3 3"]) -> Float[Tensor, "*b"]:
    """Angle (radians) of the rotation Ra^T Rb."""
    trace = (Ra.transpose(-1, -2) @ Rb).diagonal(dim1=-2, dim2=-1).sum(-1)
    return torch.acos(((trace - 1) / 2).clamp(-1.0, 1.0))


@full_precision
def is_rotation(R: Float[Tensor, "*b 3 3"], atol: float = 1e-3) -> Tensor:
    """True where R is orthonormal with determinant +1 (within atol) and finite. Shape (*b,)."""
    eye = torch.eye(3, dtype=R.dtype, device=R.device)
    finite = torch.isfinite(R).flatten(-2).all(-1)
    R0 = torch.nan_to_num(R)
    ortho = ((R0.transpose(-1, -2) @ R0) - eye).abs().flatten(-2).amax(-1) <= atol
    det = (torch.linalg.det(R0) - 1).abs() <= atol
    return finite & ortho & det


@full_precision
def slerp(q0: Float[Tensor, "*b 4"], q1: Float[Tensor, "*b 4"], t: Float[Tensor, "*b"]) -> Float[Tensor, "*b 4"]:
    """Spherical interpolation of unit quaternions along the shorter arc."""
    dot = (q0 * q1).sum(-1, keepdim=True)
    q1 = torch.where(dot < 0, -q1, q1)
    dot = dot.abs().clamp(max=1.0)
    t = t[..., None]
    theta = torch.acos(dot)
    sin = torch.sin(theta)
    small = sin < 1e-6
    w0 = torch.where(small, 1 - t, torch.sin((1 - t) * theta) / sin.clamp_min(1e-12))
    w1 = torch.where(small, t, torch.sin(t * theta) / sin.clamp_min(1e-12))
    q = w0 * q0 + w1 * q1
    return q / q.norm(dim=-1, keepdim=True)


@full_precision
def look_at(eye: Float[Tensor, "*b 3"], target: Float[Tensor, "*b 3"], up: Float[Tensor, 3] | None = None) -> Tensor:
    """OpenCV c2w (*b, 4, 4) at `eye` looking at `target`; `up` is the world's up (default -y, OpenCV)."""
    if up is None:
        up = torch.tensor([0.0, -1.0, 0.0], dtype=eye.dtype, device=eye.device)
    z = target - eye
    z = z / z.norm(dim=-1, keepdim=True)
    x = torch.linalg.cross((-up).expand_as(z), z)  # camera y points down = -up; x = y × z
    x = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    y = torch.linalg.cross(z, x)
    c2w = torch.zeros(*eye.shape[:-1], 4, 4, dtype=eye.dtype, device=eye.device)
    c2w[..., :3, 0], c2w[..., :3, 1], c2w[..., :3, 2], c2w[..., :3, 3] = x, y, z, eye
    c2w[..., 3, 3] = 1
    return c2w


__all__ = [
    "quat_to_matrix", "matrix_to_quat", "axis_angle_to_matrix", "rotation_x", "rotation_y",
    "geodesic_angle", "is_rotation", "slerp", "look_at",
]
