"""nerfstudio `transforms.json` (DL3DV's format): the one parser and the one writer (trajectories and datasets).

    {"w": 960, "h": 540, "fl_x": ..., "fl_y": ..., "cx": ..., "cy": ...,     # top level, or per frame
     "frames": [{"file_path": "images/frame_00001.png", "transform_matrix": [[...4x4 OpenGL c2w...]]}, ...]}

Intrinsics are pixels of the json's (h, w) image size (DL3DV: the full-size `images/`, while `images_4/` holds
them downsampled), so `transforms_cameras` rescales them to the size of the frames actually used. Missing
`fl_y` is `fl_x`; missing `cx`/`cy` is the image centre; a json without `w`/`h` describes frames of the size
they are read at. Distortion parameters are ignored.

Frame order: sorted by file name (natural order: frame_2 before frame_10) when every frame has a `file_path`,
otherwise the json's order. nerfstudio files name frames in temporal order, while the json's own order is not
always temporal (DL3DV's follows COLMAP's image order), and frames are matched to images by name anyway.
The parser checks syntax and types only; finiteness and rotations are the caller's policy.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from ..errors import InputError
from ..geometry import Cameras, make_K
from ..io import write_json

_INTRINSICS = ("fl_x", "fl_y", "cx", "cy")


@dataclass
class TransformsFile:
    c2w_gl: Tensor  # (F, 4, 4) float64, OpenGL c2w (x right, y up, z backward), in frame order
    intrinsics: Tensor  # (F, 4) float64: fl_x fl_y cx cy in pixels of `size`; NaN where the json leaves it out
    size: tuple[int, int] | None  # (h, w) the intrinsics describe; None when the json gives none
    file_paths: list[str | None]  # (F,)
    json_index: list[int]  # (F,) each frame's index in the json's `frames` (to name it in messages)

    def __len__(self) -> int:
        return len(self.file_paths)


def _natural(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _number(path: Path, field: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(path, field, f"expected a number, got {value!r}")
    return float(value)


def _size(path: Path, field: str, value) -> int:
    v = _number(path, field, value)
    if v < 1 or v != int(v):
        raise InputError(path, field, f"expected a positive integer image size, got {value!r}")
    return int(v)


def _matrix(path: Path, field: str, rows) -> Tensor:
    try:
        m = torch.tensor(rows, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise InputError(path, field, "expected a 4x4 or 3x4 list of numbers") from None
    if m.shape not in ((4, 4), (3, 4)):
        raise InputError(path, field, f"expected a 4x4 or 3x4 matrix, got shape {tuple(m.shape)}")
    out = torch.eye(4, dtype=torch.float64)
    out[:3] = m[:3]
    return out


def parse_transforms(path: str | Path, data) -> TransformsFile:
    """A decoded transforms.json object -> TransformsFile (InputError naming the file and field)."""
    path = Path(path)
    frames = data.get("frames") if isinstance(data, dict) else None
    if not isinstance(frames, list) or not frames or not all(isinstance(fr, dict) for fr in frames):
        raise InputError(path, "frames", "expected a non-empty list of frame objects")
    order = list(range(len(frames)))
    if all(isinstance(fr.get("file_path"), str) for fr in frames):
        order.sort(key=lambda i: _natural(Path(frames[i]["file_path"]).name))
    poses, intr, size = [], [], None
    for i in order:
        fr, src = frames[i], {**data, **frames[i]}
        if "transform_matrix" not in fr:
            raise InputError(path, f"frames[{i}].transform_matrix", "missing")
        poses.append(_matrix(path, f"frames[{i}].transform_matrix", fr["transform_matrix"]))
        if "fl_x" not in src:
            raise InputError(path, f"frames[{i}].fl_x", "missing focal length")
        intr.append([_number(path, f"frames[{i}].{k}", src[k]) if k in src else float("nan") for k in _INTRINSICS])
        if ("h" in src) != ("w" in src):
            raise InputError(path, f"frames[{i}].{'w' if 'h' in src else 'h'}", "give both w and h, or neither")
        hw = (_size(path, f"frames[{i}].h", src["h"]), _size(path, f"frames[{i}].w", src["w"])) if "h" in src else None
        if i != order[0] and hw != size:
            raise InputError(path, f"frames[{i}].h", "all frames must share one image size")
        size = hw
    return TransformsFile(torch.stack(poses), torch.tensor(intr, dtype=torch.float64), size,
                          [frames[i].get("file_path") for i in order], order)


def read_transforms_json(path: str | Path) -> TransformsFile:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(path, None, f"malformed JSON ({e})") from None
    return parse_transforms(path, data)


def transforms_cameras(t: TransformsFile, height: int | None = None, width: int | None = None) -> Cameras:
    """Cameras (F,) for frames of height x width (default: the json's size), intrinsics rescaled from the json's."""
    if height is None or width is None:
        if t.size is None:
            raise ValueError("the json gives no image size (w, h): pass the frames' height and width")
        height, width = t.size
    jh, jw = t.size if t.size is not None else (height, width)
    fx, fy, cx, cy = t.intrinsics.unbind(-1)
    fy = torch.where(torch.isnan(fy), fx, fy)
    cx = torch.where(torch.isnan(cx), torch.full_like(cx, jw / 2), cx)
    cy = torch.where(torch.isnan(cy), torch.full_like(cy, jh / 2), cy)
    sx, sy = width / jw, height / jh
    return Cameras.from_opengl_c2w(t.c2w_gl, make_K(fx * sx, fy * sy, cx * sx, cy * sy), height, width)


def write_transforms_json(path: str | Path, cameras: Cameras, file_paths: list[str] | None = None) -> Path:
    """Write Cameras (F,) with their size as (w, h); intrinsics top-level when every frame shares them (as
    DL3DV), else per frame. File paths default to images/frame_00000.png, ... (in frame order)."""
    names = file_paths or [f"images/frame_{i:05d}.png" for i in range(len(cameras))]
    if len(names) != len(cameras):
        raise ValueError(f"{len(names)} file paths for {len(cameras)} cameras")
    intr = [dict(zip(_INTRINSICS, (k[0][0], k[1][1], k[0][2], k[1][2]))) for k in cameras.K.double().tolist()]
    shared = all(k == intr[0] for k in intr)
    frames = [{"file_path": n, "transform_matrix": m.tolist()} | ({} if shared else k)
              for n, m, k in zip(names, cameras.to_opengl_c2w().double(), intr)]
    write_json(path, {"camera_model": "OPENCV", "w": cameras.width, "h": cameras.height,
                      **(intr[0] if shared else {}), "frames": frames})
    return Path(path)
