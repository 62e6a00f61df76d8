"""mp4 in and out with imageio (ffmpeg), written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .io import atomic_path


def to_uint8(frames: Tensor) -> np.ndarray:
    """(F, 3, H, W) in [0, 1] -> (F, H, W, 3) uint8."""
    return (frames.detach().float().clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def write_video(path: str | Path, frames: Tensor, fps: float = 8.0, quality: int = 8) -> None:
    """Write (F, 3, H, W) frames in [0, 1] as H.264 mp4. Odd sizes are padded by ffmpeg's block rule."""
    import imageio.v2 as imageio

    arr = to_uint8(frames)
    with atomic_path(path) as tmp:
        # macro_block_size=1 keeps the exact size (no silent resize to a multiple of 16).
        with imageio.get_writer(tmp, format="FFMPEG", fps=fps, codec="libx264", quality=quality,
                                macro_block_size=1, pixelformat="yuv444p" if arr.shape[1] % 2 or arr.shape[2] % 2
                                else "yuv420p") as writer:
            for frame in arr:
                writer.append_data(frame)


def read_video(path: str | Path) -> Tensor:
    """(F, 3, H, W) float in [0, 1]."""
    import imageio.v2 as imageio

    with imageio.get_reader(path, format="FFMPEG") as reader:
        arr = np.stack(list(reader.iter_data()))  # len(reader) is inf for ffmpeg streams
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float() / 255
