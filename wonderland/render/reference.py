"""The pure-PyTorch reference backend: EWA projection + tile compositing, one view at a time."""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

from ..precision import full_precision
from .project import project
from .rasterize import rasterize


@full_precision
def render_reference(means: Float[Tensor, "g 3"], quats: Float[Tensor, "g 4"], scales: Float[Tensor, "g 3"],
                     opacities: Float[Tensor, " g"], colors: Float[Tensor, "g 3"], w2c: Float[Tensor, "v 4 4"],
                     K: Float[Tensor, "v 3 3"], height: int, width: int, background: Float[Tensor, " 3"]
                     ) -> tuple[Float[Tensor, "v 3 h w"], Float[Tensor, "v 1 h w"], Float[Tensor, "v 1 h w"]]:
    """-> rgb, alpha, accumulated depth Σ w_i z_i for every view; differentiable w.r.t. all inputs."""
    rgbs, alphas, depths = [], [], []
    for v in range(w2c.shape[0]):
        p = project(means, quats, scales, w2c[v], K[v], height, width)
        feats = torch.cat([colors.index_select(0, p.ids), p.depths[:, None]], -1)  # (n, 4): depth as a colour
        acc, t_final = rasterize(p, opacities.index_select(0, p.ids), feats, height, width)
        rgbs.append(acc[:3] + t_final * background[:, None, None])
        alphas.append(1 - t_final[None])
        depths.append(acc[3:])
    return torch.stack(rgbs), torch.stack(alphas), torch.stack(depths)
