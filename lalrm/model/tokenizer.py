"""Latent tokens + pose tokens on one grid, fused to the transformer width (SPEC.md section 3).

Latent tokens: Conv2d per latent frame, kernel = stride = patch (16 -> width).
Pose tokens: Conv3d on the frame-0-padded Plücker map, kernel = stride = (4, 8*patch, 8*patch), so a
pose token covers exactly the video pixels (and frames) of its latent token.
Fusion: LayerNorm each, concatenate (2*width), linear -> width.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from wonderland.latents import LATENT_CHANNELS, SPATIAL_COMPRESSION, TEMPORAL_COMPRESSION, pad_frames

PLUCKER_CHANNELS = 6


class Tokenizer(nn.Module):
    def __init__(self, width: int, patch_size: int):
        super().__init__()
        self.patch_size = patch_size
        pix = SPATIAL_COMPRESSION * patch_size
        self.latent_embed = nn.Conv2d(LATENT_CHANNELS, width, patch_size, stride=patch_size)
        self.pose_embed = nn.Conv3d(PLUCKER_CHANNELS, width, (TEMPORAL_COMPRESSION, pix, pix),
                                    stride=(TEMPORAL_COMPRESSION, pix, pix))
        self.latent_norm = nn.LayerNorm(width)
        self.pose_norm = nn.LayerNorm(width)
        self.fuse = nn.Linear(2 * width, width)

    def forward(self, latents: Tensor, plucker: Tensor) -> Tensor:
        """latents (B, 16, T, h, w), plucker (B, F, 6, 8h, 8w) with h, w multiples of the patch
        -> tokens (B, T * h/p * w/p, width), ordered (t, row, col)."""
        b, _, t = latents.shape[:3]
        lat = self.latent_embed(latents.transpose(1, 2).flatten(0, 1))  # (B*T, D, h/p, w/p)
        lat = lat.unflatten(0, (b, t)).flatten(3).transpose(2, 3).flatten(1, 2)  # (B, N, D)
        return self.fuse_with_pose(lat, plucker)

    def fuse_with_pose(self, content: Tensor, plucker: Tensor) -> Tensor:
        """content tokens (B, N, D) on the (T, h/p, w/p) grid + plucker (B, F, 6, 8h, 8w) -> fused (B, N, D).
        Shared with the RGB-input twin (`lalrm.stitching.rgb_lrm`), whose content tokens come from frames."""
        pl = pad_frames(plucker, dim=1).transpose(1, 2)  # (B, 6, 4T, 8h, 8w)
        pose = self.pose_embed(pl.to(content.dtype)).flatten(2).transpose(1, 2)  # (B, N, D)
        return self.fuse(torch.cat([self.latent_norm(content), self.pose_norm(pose)], -1))
