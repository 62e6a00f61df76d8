"""The video-latent contract shared by `camera_video` (producer) and `lalrm` (consumer), SPEC.md section 1.

CogVideoX 3D VAE: 49 x 480 x 720 frames -> latents (16, 13, 60, 90); spatial /8, causal temporal /4:
latent 0 <- frame 0, latent k >= 1 <- frames 4k-3 .. 4k. Per-frame maps (Plücker) are grouped the
same way: frame 0 repeated so it fills the first group of 4, then groups of 4 consecutive frames.
The inverse drops the 3 leading padding frames. Images are [0, 1]; the VAE's [-1, 1] range and
scaling factor appear only where the VAE is called (`to_vae_range` / `from_vae_range`).
"""

from __future__ import annotations

import torch
from torch import Tensor

LATENT_CHANNELS = 16
TEMPORAL_COMPRESSION = 4
SPATIAL_COMPRESSION = 8
NUM_FRAMES = 49
PAD_FRAMES = TEMPORAL_COMPRESSION - 1  # copies of frame 0 put in front


def num_latent_frames(num_frames: int) -> int:
    if num_frames < 1 or (num_frames - 1) % TEMPORAL_COMPRESSION:
        raise ValueError(f"frame count must be 4k+1 (e.g. 49), got {num_frames}")
    return (num_frames - 1) // TEMPORAL_COMPRESSION + 1


def latent_shape(num_frames: int, height: int, width: int) -> tuple[int, int, int, int]:
    """(C, T, h, w) of the latents of a (num_frames, height, width) video."""
    if height % SPATIAL_COMPRESSION or width % SPATIAL_COMPRESSION:
        raise ValueError(f"video size must be a multiple of {SPATIAL_COMPRESSION}, got {height}x{width}")
    return (LATENT_CHANNELS, num_latent_frames(num_frames), height // SPATIAL_COMPRESSION,
            width // SPATIAL_COMPRESSION)


def pad_frames(x: Tensor, dim: int = 1) -> Tensor:
    """(.., F, ..) -> (.., F + 3, ..): frame 0 repeated 3 times in front (4 copies in all)."""
    dim = dim % x.ndim
    num_latent_frames(x.shape[dim])
    first = x.narrow(dim, 0, 1).expand(*[PAD_FRAMES if d == dim else -1 for d in range(x.ndim)])
    return torch.cat([first, x], dim)


def group_frames(x: Tensor, dim: int = 1) -> Tensor:
    """(.., F, ..) -> (.., T, 4, ..): the latent-frame grouping of per-frame data."""
    dim = dim % x.ndim
    padded = pad_frames(x, dim)
    t = padded.shape[dim] // TEMPORAL_COMPRESSION
    return padded.unflatten(dim, (t, TEMPORAL_COMPRESSION))


def unpad_frames(x: Tensor, dim: int = 1) -> Tensor:
    """(.., 4T, ..) -> (.., 4T - 3, ..): drop the 3 leading padding frames of a decoded map."""
    return x.narrow(dim, PAD_FRAMES, x.shape[dim] - PAD_FRAMES)


def to_vae_range(images: Tensor) -> Tensor:
    """[0, 1] images -> the VAE's [-1, 1]."""
    return images * 2 - 1


def from_vae_range(images: Tensor) -> Tensor:
    return ((images + 1) / 2).clamp(0, 1)
