"""Differentiable rendering of 3D Gaussians: a pure-PyTorch reference renderer and a gsplat backend."""

from .api import RenderOutput, render, render_batch
from .sequence import render_video

__all__ = ["RenderOutput", "render", "render_batch", "render_video"]
