"""Gaussian head: LayerNorm + ConvTranspose3d from tokens to a 12-channel pixel-aligned Gaussian map.

Channels per Gaussian (SPEC.md section 3): RGB 3 | scale 3 | rotation 4 (w, x, y, z) | opacity 1 |
ray distance 1. kernel = stride = (4, s, s): every token emits its 4 frames x s x s Gaussians; the 3
leading frames of the 4T are the frame-0 padding of the latent grouping and are dropped.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from wonderland.latents import TEMPORAL_COMPRESSION, unpad_frames

GAUSSIAN_CHANNELS = 12
RGB, SCALE, ROT, OPACITY, DIST = slice(0, 3), slice(3, 6), slice(6, 10), slice(10, 11), slice(11, 12)


class GaussianHead(nn.Module):
    def __init__(self, width: int, stride: int, init_scale: float, init_opacity: float):
        super().__init__()
        self.stride = stride
        self.norm = nn.LayerNorm(width)
        k = (TEMPORAL_COMPRESSION, stride, stride)
        self.deconv = nn.ConvTranspose3d(width, GAUSSIAN_CHANNELS, k, stride=k)
        # Small weights: at step 0 every Gaussian sits near the bias, i.e. the activations' initial values
        # (output std ~0.1 for the unit-variance LayerNorm output).
        nn.init.normal_(self.deconv.weight, std=0.1 / math.sqrt(width))
        bias = torch.zeros(GAUSSIAN_CHANNELS)
        bias[SCALE] = math.log(init_scale)  # scale = exp(raw): small initial Gaussians
        bias[ROT.start] = 1.0  # identity rotation (w = 1)
        bias[OPACITY] = math.log(init_opacity / (1 - init_opacity))  # sigmoid^-1: low initial opacity
        with torch.no_grad():
            self.deconv.bias.copy_(bias)

    def forward(self, tokens: Tensor, grid: tuple[int, int, int]) -> Tensor:
        """tokens (B, T*ht*wt, D), grid (T, ht, wt) -> raw map (B, 4T-3, 12, ht*s, wt*s)."""
        x = self.norm(tokens).transpose(1, 2).unflatten(2, grid)  # (B, D, T, ht, wt)
        x = self.deconv(x)  # (B, 12, 4T, ht*s, wt*s)
        return unpad_frames(x, dim=2).transpose(1, 2)


def resample_head_kernel(weight: Tensor, stride: int) -> Tensor:
    """Deconv kernel (D, 12, 4, s, s) -> (D, 12, 4, stride, stride) for a stage with another head stride.

    Kernel pixel (i, j) is the Gaussian at relative position ((i+.5)/s, (j+.5)/s) inside its token, so we
    keep that mapping: area-average when shrinking (a new pixel = mean of the old pixels it covers, hence
    its raw output = mean of their raw outputs), nearest-repeat when growing. The bias is per channel and
    kept. Used for lowres (s=16) -> highres (s=8): the Gaussian map is 240x360 in both stages, so each
    Gaussian covers the same solid angle and the scale channel needs no correction.
    """
    s = weight.shape[-1]
    if s == stride:
        return weight.clone()
    d, c, t = weight.shape[:3]
    flat = weight.flatten(0, 2)[:, None]  # (D*12*4, 1, s, s)
    if s % stride == 0:
        out = F.avg_pool2d(flat, s // stride)
    elif stride % s == 0:
        out = flat.repeat_interleave(stride // s, -2).repeat_interleave(stride // s, -1)
    else:
        raise ValueError(f"head stride {s} -> {stride}: one must divide the other")
    return out.reshape(d, c, t, stride, stride)
