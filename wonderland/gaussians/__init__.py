"""3D Gaussian splats: the container, pixel-aligned construction and the files viewers open."""

import os
from pathlib import Path

from wonderland.errors import InputError

from .container import Gaussians, pixel_aligned_gaussians
from .ply import SH_C0, load_ply, save_ply
from .splat import load_splat, save_splat


def load_scene(path: str | os.PathLike) -> Gaussians:
    """A .ply (INRIA 3DGS layout) or .splat file, chosen by suffix -> Gaussians (g,)."""
    path = Path(path)
    loaders = {".ply": load_ply, ".splat": load_splat}
    if path.suffix.lower() not in loaders:
        raise InputError(path, None, f"unknown scene format '{path.suffix}'; expected .ply or .splat")
    return loaders[path.suffix.lower()](path)


__all__ = ["Gaussians", "pixel_aligned_gaussians", "SH_C0", "load_ply", "save_ply", "load_splat", "save_splat",
           "load_scene"]
