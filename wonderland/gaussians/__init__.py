"""3D Gaussian splats: the container, pixel-aligned construction and the files viewers open."""

from .container import Gaussians, pixel_aligned_gaussians
from .ply import SH_C0, load_ply, save_ply
from .splat import load_splat, save_splat

__all__ = ["Gaussians", "pixel_aligned_gaussians", "SH_C0", "load_ply", "save_ply", "load_splat", "save_splat"]
