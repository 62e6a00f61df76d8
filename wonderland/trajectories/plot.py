"""Draw camera frusta and the path to a PNG, so users can see that their convention is right."""

from __future__ import annotations

from pathlib import Path

import torch

from ..geometry import Cameras
from ..io import atomic_path


def frustum_lines(cams: Cameras, size: float) -> torch.Tensor:
    """(F, 8, 2, 3) world-space segments: 4 from the centre to the image corners, 4 around the image."""
    h, w = cams.height, cams.width
    corners = torch.tensor([[0, 0, 1], [w, 0, 1], [w, h, 1], [0, h, 1]], dtype=cams.K.dtype)
    cam_pts = corners @ torch.linalg.inv(cams.K).transpose(-1, -2) * size  # (F, 4, 3), z = size
    world = cam_pts @ cams.c2w[:, None, :3, :3].transpose(-1, -2).squeeze(1) + cams.centers[:, None]
    c = cams.centers[:, None].expand_as(world)
    rim = torch.stack([world, world.roll(-1, dims=1)], 2)
    spokes = torch.stack([c, world], 2)
    return torch.cat([spokes, rim], 1)


def plot_trajectory(cams: Cameras, out: str | Path, title: str | None = None, every: int | None = None) -> None:
    """Write a 3D plot (x right, z forward, y down drawn as up = -y) of the path and frusta."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cams = cams.to(torch.float64)
    centers = cams.centers
    extent = float((centers - centers.mean(0)).norm(dim=-1).max().clamp_min(0.5))
    every = every or max(1, len(cams) // 12)
    sel = list(range(0, len(cams), every)) + ([len(cams) - 1] if (len(cams) - 1) % every else [])
    lines = frustum_lines(cams[sel], size=0.3 * extent)

    def xyz(p):  # world (x, y down, z forward) -> plot axes (x, z, -y) so "up" is up
        return p[..., 0], p[..., 2], -p[..., 1]

    fig = plt.figure(figsize=(7, 6))
    ax = fig.add_subplot(projection="3d")
    ax.plot(*xyz(centers), color="k", lw=1.5, label="path")
    colors = plt.cm.viridis(torch.linspace(0, 1, len(sel)).numpy())
    for seg_set, col in zip(lines, colors):
        for seg in seg_set:
            ax.plot(*xyz(seg), color=col, lw=0.8)
    ax.scatter(*xyz(centers[:1]), color="red", s=30, label="frame 0")
    ax.set_xlabel("x (right)")
    ax.set_ylabel("z (forward)")
    ax.set_zlabel("-y (up)")
    mid = centers.mean(0)
    for setter, m in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), xyz(mid)):
        setter(float(m) - extent * 1.2, float(m) + extent * 1.2)
    ax.legend(loc="upper left")
    ax.set_title(title or f"{len(cams)} cameras, {cams.height}x{cams.width}")
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
