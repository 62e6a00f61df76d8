"""RealEstate10K / ACID camera `.txt`: the one parser and the one writer (trajectories and datasets use both).

    line 1:  the video's URL
    then:    timestamp_us fx fy cx cy 0 0 r00 r01 r02 t0 r10 r11 r12 t1 r20 r21 r22 t2   (one line per frame)

Intrinsics are normalised by the frame's width (fx, cx) and height (fy, cy); the 3x4 matrix is world-to-camera,
OpenCV axes. The file holds no image size: `re10k_cameras` needs the size of the frames it describes (a dataset
reader takes it from the frames; a trajectory reader from the image it goes with, or 16:9, RE10K's own frames).

Frame order: the file's (RE10K's timestamps increase down the file; a hand-written file is in the order its
author wrote). The parser checks syntax only; whether the numbers are finite and the rotations rotations is
the caller's policy (a trajectory is refused, a dataset scene is skipped as `bad_pose`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from ..errors import InputError
from ..geometry import Cameras
from ..io import atomic_open

# RealEstate10K and ACID frames are 16:9 YouTube video; only the aspect matters once intrinsics are in pixels.
RE10K_SIZE = (720, 1280)


@dataclass
class Re10kFile:
    url: str
    timestamps: list[int]  # (F,) microseconds
    rows: Tensor  # (F, 18) float64: fx fy cx cy (normalised) 0 0, row-major 3x4 w2c

    def __len__(self) -> int:
        return len(self.timestamps)


def read_re10k_txt(path: str | Path) -> Re10kFile:
    """Parse a camera file. A malformed one is an `InputError` naming the file and the line."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(path, None, f"cannot be read as text ({e.__class__.__name__})") from None
    stamps, rows = [], []
    for n, line in enumerate(lines[1:], start=2):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 19:
            raise InputError(path, f"line {n}", f"expected 19 numbers (timestamp + 18), got {len(parts)}")
        try:
            stamps.append(int(parts[0]))
            rows.append([float(x) for x in parts[1:]])
        except ValueError:
            raise InputError(path, f"line {n}", "expected numbers (an integer timestamp, then 18)") from None
    if not rows:
        raise InputError(path, "line 2", "no camera lines after the URL line")
    return Re10kFile(lines[0].strip(), stamps, torch.tensor(rows, dtype=torch.float64))


def re10k_cameras(rows: Tensor, height: int, width: int) -> Cameras:
    """Rows (F, 18) -> Cameras (F,) for frames of height x width (intrinsics de-normalised to pixels)."""
    return Cameras.from_re10k(rows, height, width)


def square_pixel_size(rows: Tensor, height: int, width: int, tol: float = 0.01) -> bool:
    """Whether the file's intrinsics give square pixels (fx = fy in pixels) in every frame at height x width:
    the test that a file was made for images of that aspect."""
    fx, fy = rows[:, 0] * width, rows[:, 1] * height
    return bool(((fx / fy - 1).abs() <= tol).all())


def write_re10k_txt(path: str | Path, cameras: Cameras, timestamps: list[int] | None = None, url: str = "") -> Path:
    """Write Cameras (F,) (any size: intrinsics are normalised by it); timestamps default to 0, 1, 2, ..."""
    rows = cameras.to_re10k().double()
    stamps = list(range(len(cameras))) if timestamps is None else [int(t) for t in timestamps]
    if len(stamps) != len(rows):
        raise ValueError(f"{len(stamps)} timestamps for {len(rows)} cameras")
    with atomic_open(path) as f:
        f.write(url + "\n")
        for t, r in zip(stamps, rows.tolist()):
            f.write(" ".join([str(t)] + [repr(x) for x in r]) + "\n")
    return Path(path)
