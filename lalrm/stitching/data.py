"""Multi-view clips for the search and the fine-tune: frames and cameras only (no 3D labels, no supervision views).

Sample i of the stream depends only on (seed, i) (`wonderland.training.MixedStream` over `VideoClipDataset`s), so
the search reads the same clips on every run and the fine-tune resumes at its step. A batch:
frames (B, F, 3, H, W) in [0, 1] at the VAE's size, cameras (B, F) relative to frame 0 and scale-normalised.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from wonderland.geometry import Cameras
from wonderland.training import MixedStream

from .config import ClipConfig, DataConfig


def clip_stream(data: DataConfig, clip: ClipConfig, seed: int) -> MixedStream:
    from wonderland.data import VideoClipDataset, open_scenes

    sources = [(VideoClipDataset(open_scenes(s.kind, s.root), clip.num_frames, clip.height, clip.width, s.strides,
                                 seed=seed), s.weight) for s in data.sources.values()]
    return MixedStream(sources, seed)


def collate_clips(items: list[dict]) -> tuple[Tensor, Cameras]:
    """Clip items -> frames (B, F, 3, H, W), cameras (B, F) at (H, W)."""
    frames = torch.stack([it["frames"] for it in items])
    h, w = frames.shape[-2:]
    return frames, Cameras(torch.stack([it["c2w"] for it in items]), torch.stack([it["K"] for it in items]), h, w)


def rgb_inputs(model, frames: Tensor, cameras: Cameras) -> tuple[Tensor, Cameras]:
    """What the 3D model reads: frames (B, F, 3, h, w) and cameras at its `rgb_size` of the VAE's (H, W)."""
    size = tuple(model.rgb_size(cameras.height, cameras.width))
    if size == (cameras.height, cameras.width):
        return frames, cameras
    small = F.interpolate(frames.flatten(0, 1), size=size, mode="bilinear", antialias=True, align_corners=False)
    return small.unflatten(0, frames.shape[:2]).clamp(0, 1), cameras.resize(*size)
