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

from .cameras import Cameras, rigid_inverse


@dataclass
class PoseNormalization:
    reference: Float[Tensor, "*b 4 4"]  # the original c2w of frame 0
    scale: Float[Tensor, "*b"]  # user units per normalised unit

    def apply(self, c2w: Float[Tensor, "*b f 4 4"]) -> Float[Tensor, "*b f 4 4"]:
        out = rigid_inverse(self.reference)[..., None, :, :] @ c2w
        out[..., :3, 3] = out[..., :3, 3] / self.scale[..., None, None]
        return out

    def invert(self, c2w: Float[Tensor, "*b f 4 4"]) -> Float[Tensor, "*b f 4 4"]:
        out = c2w.clone()
        out[..., :3, 3] = out[..., :3, 3] * self.scale[..., None, None]
        return self.reference[..., None, :, :] @ out

    def points_to_world(self, points: Float[Tensor, "*b n 3"]) -> Float[Tensor, "*b n 3"]:
        """Normalised-frame points (e.g. Gaussian means) -> the user's world frame."""
        p = points * self.scale[..., None, None]
        return p @ self.reference[..., None, :3, :3].transpose(-1, -2).squeeze(-3) + self.reference[..., None, :3, 3]


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
