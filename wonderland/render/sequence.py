"""Render a camera path frame by frame (bounded memory): fly-through videos for the CLI and the product."""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor
from tqdm import tqdm

from wonderland.gaussians import Gaussians
from wonderland.geometry import Cameras

from .api import render


def render_video(scene: Gaussians, cameras: Cameras, background: Tensor, backend: str = "auto",
                 progress: bool = True
                 ) -> tuple[Float[Tensor, "f 3 h w"], Float[Tensor, "f 1 h w"], Float[Tensor, "f 1 h w"]]:
    """Render frame by frame (bounded memory) with a progress bar -> rgb, alpha, depth on CPU."""
    rgb, alpha, depth = [], [], []
    with torch.no_grad():
        for f in tqdm(range(len(cameras)), desc="rendering", unit="frame", disable=not progress):
            out = render(scene, cameras[f:f + 1], background, backend)
            rgb.append(out.rgb.cpu())
            alpha.append(out.alpha.cpu())
            depth.append(out.depth.cpu())
    return torch.cat(rgb), torch.cat(alpha), torch.cat(depth)
