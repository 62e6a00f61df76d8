"""Image and camera metrics (each a pure, tested function)."""

from .image import psnr

__all__ = ["psnr"]
