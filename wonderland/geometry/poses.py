"""Pose normalisation: relative to frame 0 and scale-normalised (SPEC.md section 0).

normalised c2w_i = S · inv(c2w_0) · c2w_i with translations divided by `scale`, where scale is the
largest camera-centre distance from camera 0 in the clip (1 when the clip does not move). The
`PoseNormalization` is kept so generated scenes can be put back in the user's units.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Float
from torch import Tensor

from ..precision import full_precision
from .cameras import Cameras, rigid_inverse


@dataclass
class PoseNormalization:
    reference: Float[Tensor, "*b 4 4"]  # the original c2w of frame 0
    scale: Float[Tensor, "*b"]  # user units per normalised unit

    @full_precision
    def apply(self, c2w: Float[Tensor, "*b f 4 4"]) -> Float[Tensor, "*b f 4 4"]:
        out = rigid_inverse(self.reference)[..., None, :, :] @ c2w
        out[..., :3, 3] = out[..., :3, 3] / self.scale[..., None, None]
        return out

    @full_precision
    def invert(self, c2w: Float[Tensor, "*b f 4 4"]) -> Float[Tensor, "*b f 4 4"]:
        out = c2w.clone()
        out[..., :3, 3] = out[..., :3, 3] * self.scale[..., None, None]
        return self.reference[..., None, :, :] @ out

    @full_precision
    def points_to_world(self, points: Float[Tensor, "*b n 3"]) -> Float[Tensor, "*b n 3"]:
        """Normalised-frame points (e.g. Gaussian means) -> the user's world frame."""
        p = points * self.scale[..., None, None]
        return p @ self.reference[..., None, :3, :3].transpose(-1, -2).squeeze(-3) + self.reference[..., None, :3, 3]


@full_precision
def normalize_poses(c2w: Float[Tensor, "*b f 4 4"], eps: float = 1e-6
                    ) -> tuple[Float[Tensor, "*b f 4 4"], PoseNormalization]:
    """Frame 0 becomes the identity; the farthest camera centre from camera 0 ends at distance 1."""
    reference = c2w[..., 0, :, :].clone()
    rel = rigid_inverse(reference)[..., None, :, :] @ c2w
    dist = rel[..., :3, 3].norm(dim=-1).amax(-1)
    scale = torch.where(dist > eps, dist, torch.ones_like(dist))
    norm = PoseNormalization(reference, scale)
    return norm.apply(c2w), norm


def normalize_cameras(cams: Cameras) -> tuple[Cameras, PoseNormalization]:
    """`normalize_poses` over the frame axis (the last batch dim) of a `Cameras`."""
    c2w, norm = normalize_poses(cams.c2w)
    return Cameras(c2w, cams.K, cams.height, cams.width), norm


def umeyama(src: Float[Tensor, "n 3"], dst: Float[Tensor, "n 3"], weights: Float[Tensor, " n"] | None = None,
            symmetric_scale: bool = False) -> PoseNormalization:
    """Least-squares similarity dst ≈ s R src + t (Umeyama 1991), optionally weighted per point.

    symmetric_scale: s = sqrt(sum w |dst - mean|^2 / sum w |src - mean|^2) (Horn 1987's symmetric form)
    instead of Umeyama's s = sum w (dst - mean) . R (src - mean) / sum w |src - mean|^2. Umeyama's is exact
    for exact points but shrinks toward 0 when src is noisy too (regression dilution: two noisy takes of
    the same scene give s < 1); the symmetric one does not.
    Returned as the `PoseNormalization` (reference [R | t], scale s) whose `points_to_world` applies it,
    so Gaussians and cameras are moved by the code that already maps normalised frames back. Written
    here because no dependency offers it on torch tensors (scikit-image's is NumPy, 2-D-first and
    unweighted; the tests check this one against it). Computed in float64; needs 3 non-collinear points.
    """
    src, dst = src.double(), dst.double()
    w = torch.ones(len(src), dtype=src.dtype, device=src.device) if weights is None else weights.double()
    w = w / w.sum()
    mu_s, mu_d = w @ src, w @ dst
    xs, xd = src - mu_s, dst - mu_d
    cov = (xd * w[:, None]).T @ xs  # (3, 3) = sum_i w_i xd_i xs_i^T
    U, D, Vh = torch.linalg.svd(cov)
    S = torch.ones(3, dtype=src.dtype, device=src.device)
    S[2] = torch.sign(torch.linalg.det(U) * torch.linalg.det(Vh))  # a rotation, never a reflection
    R = U @ torch.diag(S) @ Vh
    var_s = w @ (xs * xs).sum(-1)
    scale = (w @ (xd * xd).sum(-1) / var_s).sqrt() if symmetric_scale else (D * S).sum() / var_s
    ref = torch.eye(4, dtype=src.dtype, device=src.device)
    ref[:3, :3], ref[:3, 3] = R, mu_d - scale * R @ mu_s
    return PoseNormalization(ref, scale)
