"""Rays -> cameras: the inverse of `plucker_embedding` by least squares (SPEC.md section 8).

A generated Plücker map (the pose stream's output) is only approximately the map of a pinhole
camera, so the camera is *fitted* (SplatFlow's recipe, the papers publish no code):

1. **Centre**: the point closest to all rays. A ray with unit direction d and moment m = o x d is at
   squared distance (p - q)^T (I - d d^T) (p - q) from p, q = d x m its foot point, so the normal
   equations are  [sum (I - d d^T)] p = sum d x m  (a 3x3 solve).
2. **Intrinsics**: d ∝ R K^-1 [u, v, 1]^T, so M = R K^-1 is a homography from pixel centres to
   directions; a DLT (d x M p = 0, smallest eigenvector) finds it up to scale. Pixel coordinates are
   taken relative to the image centre (principal point assumed there: every camera this project makes
   has it), so M = s [R0 / fx, R1 / fy, R2] and fx = |M2| / |M0|, fy = |M2| / |M1|.
3. **Rotation**: orthogonal Procrustes between the camera-frame directions of the fitted K and the
   map's directions (SVD with the determinant fixed to +1).

The residual is the RMS difference (over pixels, all six channels) between the normalised input map
and the map of the fitted camera: ~0 for a map that came from a pinhole camera, large for a corrupted
one, so a caller can refuse a bad generated path.
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

from ..precision import full_precision
from .cameras import Cameras, make_K
from .rays import pixel_centers, plucker_embedding


def _skew(v: Tensor) -> Tensor:
    x, y, z = v.unbind(-1)
    zero = torch.zeros_like(x)
    return torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(*v.shape[:-1], 3, 3)


def _centres(d: Tensor, m: Tensor) -> Tensor:
    """Least-squares point closest to all rays. d, m: (*b, n, 3) with |d| = 1 -> (*b, 3)."""
    eye = torch.eye(3, dtype=d.dtype, device=d.device)
    A = (eye - d[..., :, None] * d[..., None, :]).sum(-3)
    b = torch.linalg.cross(d, m).sum(-2)
    return torch.linalg.solve(A, b[..., None])[..., 0]


def _homography(d: Tensor, p: Tensor) -> Tensor:
    """DLT for M (3x3, up to scale, sign fixed so that M p points along d). d, p: (*b, n, 3) -> (*b, 3, 3)."""
    n = p.shape[-2]
    # (M p)_i = sum_j M_ij p_j = P m with m = M.flatten(): P[i, 3 i + j] = p_j.
    P = torch.zeros(*p.shape[:-1], 3, 9, dtype=p.dtype, device=p.device)
    for i in range(3):
        P[..., i, 3 * i:3 * i + 3] = p
    rows = (_skew(d) @ P).reshape(*p.shape[:-2], 3 * n, 9)
    _, vecs = torch.linalg.eigh(rows.transpose(-1, -2) @ rows)
    M = vecs[..., :, 0].reshape(*p.shape[:-2], 3, 3)
    sign = torch.sign(((p @ M.transpose(-1, -2)) * d).sum((-1, -2)))
    return M * sign[..., None, None]


def _procrustes(src: Tensor, dst: Tensor) -> Tensor:
    """Rotation R minimising sum |R src - dst|^2. src, dst: (*b, n, 3) -> (*b, 3, 3)."""
    U, _, Vh = torch.linalg.svd(dst.transpose(-1, -2) @ src)
    det = torch.linalg.det(U @ Vh)
    D = torch.ones(*det.shape, 3, dtype=src.dtype, device=src.device)
    D[..., 2] = det.sign()
    return U @ torch.diag_embed(D) @ Vh


@full_precision
def cameras_from_plucker(plucker: Float[Tensor, "*b 6 h w"]) -> tuple[Cameras, Float[Tensor, "*b"]]:
    """Fit pinhole cameras (OpenCV c2w, K in pixels of the map's own (h, w)) to Plücker maps [o x d, d].

    Returns the cameras and the per-map RMS fit residual. Directions need not be unit (a network's
    output is not): both halves are divided by |d| first. Cameras at another image size: `.resize()`.
    Computed in float64 whatever the input dtype; the cameras come back in float64.
    """
    h, w = plucker.shape[-2:]
    x = plucker.to(torch.float64).flatten(-2).transpose(-1, -2)  # (*b, n, 6)
    norm = x[..., 3:].norm(dim=-1, keepdim=True).clamp_min(1e-12)
    x = x / norm
    m, d = x[..., :3], x[..., 3:]
    centre = _centres(d, m)

    half = max(h, w) / 2  # Hartley normalisation of the pixel coordinates: condition of the DLT
    uv = (pixel_centers(h, w, plucker.device, torch.float64).reshape(-1, 2) - torch.tensor([w / 2, h / 2])) / half
    p = torch.cat([uv, torch.ones_like(uv[:, :1])], -1).expand(*d.shape[:-2], -1, -1)
    M = _homography(d, p)
    scale = M[..., :, 2].norm(dim=-1)
    fx = scale / M[..., :, 0].norm(dim=-1) * half
    fy = scale / M[..., :, 1].norm(dim=-1) * half

    cam_dirs = p * torch.stack([half / fx, half / fy, torch.ones_like(fx)], -1)[..., None, :]
    R = _procrustes(cam_dirs / cam_dirs.norm(dim=-1, keepdim=True), d)

    c2w = torch.zeros(*R.shape[:-2], 4, 4, dtype=R.dtype, device=R.device)
    c2w[..., :3, :3], c2w[..., :3, 3], c2w[..., 3, 3] = R, centre, 1
    cams = Cameras(c2w, make_K(fx, fy, w / 2, h / 2).to(R.device), h, w)
    refit = plucker_embedding(cams.c2w, cams.K, h, w).flatten(-2).transpose(-1, -2)
    residual = (refit - x).square().sum(-1).mean(-1).sqrt()
    return cams, residual


__all__ = ["cameras_from_plucker"]
