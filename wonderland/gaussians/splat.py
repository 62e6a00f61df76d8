"""antimatter15 `.splat` files for web viewers: 32 bytes per Gaussian, no header.

Per Gaussian: position 3 x float32, linear scale 3 x float32, RGBA 4 x uint8 (A = opacity), rotation
4 x uint8 as round(q / |q| * 128 + 128) clipped to [0, 255], order (w, x, y, z). Lossy by format:
colour and opacity to 1/255, quaternion components to 1/128; higher SH degrees are dropped. We keep
the Gaussians' order (the reference converter sorts by size x opacity only for progressive loading).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from wonderland.errors import InputError
from wonderland.io import atomic_path

from .container import Gaussians

_DTYPE = np.dtype([("position", "<f4", 3), ("scale", "<f4", 3), ("rgba", "u1", 4), ("rot", "u1", 4)])
assert _DTYPE.itemsize == 32


def save_splat(path: str | os.PathLike, g: Gaussians) -> None:
    """Write unbatched Gaussians (g,) as a .splat file (atomically)."""
    if g.batch_shape:
        raise ValueError(f"save_splat: expected unbatched Gaussians, got batch shape {tuple(g.batch_shape)}")
    g = g.detach().to(device="cpu", dtype=torch.float64)
    q = g.quats / g.quats.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    rgba = torch.cat([g.colors, g.opacities[:, None]], 1)
    out = np.empty(g.num, _DTYPE)
    out["position"], out["scale"] = g.means.numpy(), g.scales.numpy()
    out["rgba"] = (rgba * 255).round().clamp(0, 255).numpy().astype(np.uint8)
    out["rot"] = (q * 128 + 128).round().clamp(0, 255).numpy().astype(np.uint8)
    with atomic_path(path) as tmp:
        out.tofile(tmp)


def load_splat(path: str | os.PathLike) -> Gaussians:
    """Read a .splat file into float32 Gaussians (g,) on CPU (unit quaternions, sh_rest None)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "file not found")
    size = path.stat().st_size
    if size % _DTYPE.itemsize:
        raise InputError(path, None, f"size {size} bytes is not a multiple of 32 (truncated .splat?)")
    data = np.fromfile(path, _DTYPE)
    for field in ("position", "scale"):
        bad = ~np.isfinite(data[field]).all(1)
        if bad.any():
            raise InputError(path, field, f"non-finite value at Gaussian {int(np.argmax(bad))}")
    q = (torch.from_numpy(data["rot"].astype(np.float32)) - 128) / 128
    rgba = torch.from_numpy(data["rgba"].astype(np.float32)) / 255
    return Gaussians(
        means=torch.from_numpy(data["position"].copy()),
        quats=q / q.norm(dim=-1, keepdim=True).clamp_min(1e-12),
        scales=torch.from_numpy(data["scale"].copy()),
        opacities=rgba[:, 3].contiguous(),
        colors=rgba[:, :3].contiguous(),
    )
