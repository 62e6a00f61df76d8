"""The gsplat backend (CUDA only). The one place where our conventions meet gsplat's.

gsplat wants world-to-camera `viewmats` in OpenCV axes (ours are c2w: inverted here), pixel `Ks`
(same as ours) and (w, x, y, z) quaternions (same as ours). We ask for "RGB+D", gsplat's
accumulated (not alpha-normalised) depth, and add the background ourselves so that the depth
channel does not receive it.
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

from ..precision import full_precision
from .project import EPS2D, NEAR_PLANE


@full_precision
def render_gsplat(means: Float[Tensor, "g 3"], quats: Float[Tensor, "g 4"], scales: Float[Tensor, "g 3"],
                  opacities: Float[Tensor, " g"], colors: Float[Tensor, "g 3"], w2c: Float[Tensor, "v 4 4"],
                  K: Float[Tensor, "v 3 3"], height: int, width: int, background: Float[Tensor, " 3"]
                  ) -> tuple[Float[Tensor, "v 3 h w"], Float[Tensor, "v 1 h w"], Float[Tensor, "v 1 h w"]]:
    """Same contract as `render_reference`; inputs must be float32 CUDA tensors."""
    try:
        from gsplat import rasterization
    except ImportError as e:
        raise ImportError("backend 'gsplat' needs the gsplat package (pip install 'wonderland[cuda]')") from e
    out, alpha, _ = rasterization(means, quats, scales, opacities, colors, viewmats=w2c, Ks=K, width=width,
                                  height=height, near_plane=NEAR_PLANE, eps2d=EPS2D, render_mode="RGB+D",
                                  packed=False)
    out, alpha = out.permute(0, 3, 1, 2), alpha.permute(0, 3, 1, 2)  # (v, 4, h, w), (v, 1, h, w)
    rgb = out[:, :3] + (1 - alpha) * background[:, None, None]
    return rgb, alpha, out[:, 3:]


def gsplat_available() -> bool:
    import importlib.util

    return torch.cuda.is_available() and importlib.util.find_spec("gsplat") is not None
