"""Wonderland: single image + camera trajectory -> 3D Gaussian scene. Kept light: version only."""

__version__ = "0.1.0"
