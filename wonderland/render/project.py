"""EWA projection of 3D Gaussians into one pinhole view, with gsplat's conventions.

Σ2d = J W Σ Wᵀ Jᵀ + 0.3 I (the 0.3-pixel low-pass is gsplat's `eps2d`), J the Jacobian of the
perspective map at the mean, with x/z and y/z clamped to 1.3x the field of view as gsplat does so
that Gaussians far off-screen do not blow up. Pixel centres are at +0.5 (SPEC.md section 0), which
is also gsplat's convention for `means2d`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Float
from torch import Tensor

NEAR_PLANE = 0.01  # camera-space z below which a Gaussian is culled (gsplat's default)
EPS2D = 0.3  # pixels² added to the 2D covariance (gsplat's default low-pass)
EXTENT_SIGMAS = 3.0  # a Gaussian's footprint: its 3-sigma ellipse


def _rotations(q: Float[Tensor, "g 4"]) -> Float[Tensor, "g 3 3"]:
    """(w, x, y, z) of any norm -> rotation matrices. Closed form: kornia's converter (behind
    `wonderland.geometry.quat_to_matrix`) costs ~1 s per 10^5 quaternions on CPU, 50x this."""
    w, x, y, z = (q / q.norm(dim=-1, keepdim=True).clamp_min(1e-12)).unbind(-1)
    return torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
                        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1).reshape(-1, 3, 3)


@dataclass
class Projected:
    """The Gaussians visible in one view, sorted front to back (n of the input g survive)."""

    ids: Tensor  # (n,) int64 index into the input Gaussians
    means2d: Float[Tensor, "n 2"]  # pixel (u, v)
    conics: Float[Tensor, "n 3"]  # upper triangle (a, b, c) of Σ2d⁻¹
    depths: Float[Tensor, " n"]  # camera-space z
    extents: Float[Tensor, "n 2"]  # half-size of the 3-sigma bounding box in pixels (no gradient)


def project(means: Float[Tensor, "g 3"], quats: Float[Tensor, "g 4"], scales: Float[Tensor, "g 3"],
            w2c: Float[Tensor, "4 4"], K: Float[Tensor, "3 3"], height: int, width: int) -> Projected:
    """Cull (behind the near plane, outside the image by their 3-sigma box), project and depth-sort."""
    Rw, tw = w2c[:3, :3], w2c[:3, 3]
    with torch.no_grad():
        ids = ((means @ Rw.T)[:, 2] + tw[2] > NEAR_PLANE).nonzero().squeeze(-1)
    cam = means.index_select(0, ids) @ Rw.T + tw  # (n, 3)
    R = _rotations(quats.index_select(0, ids))
    M = Rw @ R * scales.index_select(0, ids)[:, None, :]  # (n, 3, 3): camera-space R S
    cov = M @ M.transpose(-1, -2)

    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    x, y, z = cam.unbind(-1)
    margin_x, margin_y = 0.3 * 0.5 * width / fx, 0.3 * 0.5 * height / fy  # 0.3 x tan(fov / 2)
    xc = z * torch.clamp(x / z, -cx / fx - margin_x, (width - cx) / fx + margin_x)
    yc = z * torch.clamp(y / z, -cy / fy - margin_y, (height - cy) / fy + margin_y)
    zero = torch.zeros_like(z)
    J = torch.stack([fx / z, zero, -fx * xc / z**2, zero, fy / z, -fy * yc / z**2], -1).reshape(-1, 2, 3)
    cov2d = J @ cov @ J.transpose(-1, -2)
    a, b, c = cov2d[:, 0, 0] + EPS2D, cov2d[:, 0, 1], cov2d[:, 1, 1] + EPS2D
    det = a * c - b * b
    conics = torch.stack([c, -b, a], -1) / det[:, None]
    means2d = torch.stack([fx * x / z + cx, fy * y / z + cy], -1)

    with torch.no_grad():
        extents = EXTENT_SIGMAS * torch.stack([a, c], -1).sqrt()
        keep = ((means2d + extents > 0) & (means2d - extents < means2d.new_tensor([width, height]))).all(-1)
        keep &= det > 0
        keep = keep.nonzero().squeeze(-1)
        keep = keep[torch.argsort(z[keep], stable=True)]
    return Projected(ids[keep], means2d.index_select(0, keep), conics.index_select(0, keep), z.index_select(0, keep),
                     extents[keep])
