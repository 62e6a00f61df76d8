"""Per-pixel rays and the Plücker embedding (SPEC.md section 0).

d = R · normalize(K^-1 [u, v, 1]) with (u, v) at pixel centres (+0.5), o = camera centre,
embedding = [o x d, d] (moment first), laid out channel-first (..., 6, H, W).
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

from ..precision import full_precision


def pixel_centers(height: int, width: int, device=None, dtype=torch.float32) -> Float[Tensor, "h w 2"]:
    """(u, v) = (col + 0.5, row + 0.5) for every pixel."""
    v, u = torch.meshgrid(torch.arange(height, device=device, dtype=dtype) + 0.5,
                          torch.arange(width, device=device, dtype=dtype) + 0.5, indexing="ij")
    return torch.stack([u, v], -1)


@full_precision
def ray_bundle(c2w: Float[Tensor, "*b 4 4"], K: Float[Tensor, "*b 3 3"], height: int, width: int
               ) -> tuple[Float[Tensor, "*b h w 3"], Float[Tensor, "*b h w 3"]]:
    """World-space ray origins and unit directions of every pixel centre."""
    uv = pixel_centers(height, width, c2w.device, c2w.dtype)
    pix = torch.cat([uv, torch.ones_like(uv[..., :1])], -1)  # (h, w, 3)
    cam = pix @ torch.linalg.inv(K).transpose(-1, -2)[..., None, :, :]  # (*b, h, w, 3)
    cam = cam / cam.norm(dim=-1, keepdim=True)
    dirs = cam @ c2w[..., None, :3, :3].transpose(-1, -2)
    origins = c2w[..., None, None, :3, 3].expand_as(dirs)
    return origins, dirs


@full_precision
def plucker_embedding(c2w: Float[Tensor, "*b 4 4"], K: Float[Tensor, "*b 3 3"], height: int, width: int
                      ) -> Float[Tensor, "*b 6 h w"]:
    """Plücker coordinates [o x d, d] per pixel, channels first."""
    o, d = ray_bundle(c2w, K, height, width)
    pl = torch.cat([torch.linalg.cross(o, d), d], -1)  # (*b, h, w, 6)
    return pl.movedim(-1, -3)
