"""Trajectory files: the project's JSON format, RealEstate10K camera `.txt`, nerfstudio `transforms.json`
(the last two parsed and written by `wonderland.formats`, the same code the dataset readers use).

Project JSON (`"format": "wonderland.trajectory"`, version 1)::

    {"format": "wonderland.trajectory", "version": 1,
     "convention": "opencv_c2w",            # or "opencv_w2c", "opengl_c2w"
     "height": 480, "width": 720,
     "intrinsics": {"fx": 514.7, "fy": 514.7, "cx": 360, "cy": 240},   # pixels, or {"fov_y_degrees": 50}
     "frames": [{"pose": [[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]},  # 4x4 (or 3x4) row-major
                {"pose": [...], "intrinsics": {...}}]}               # per-frame intrinsics override

Every reader returns `Cameras (F,)` in the project convention and raises `InputError` naming the file
and the field on bad input (malformed JSON, missing/unknown field, non-rotation, NaN/inf, wrong count).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from ..errors import InputError
from ..formats import (
    RE10K_SIZE,
    parse_transforms,
    re10k_cameras,
    read_re10k_txt,
    square_pixel_size,
    transforms_cameras,
    write_re10k_txt,
    write_transforms_json,
)
from ..geometry import Cameras, K_from_fov, is_rotation, make_K
from ..io import atomic_open

FORMAT = "wonderland.trajectory"
CONVENTIONS = ("opencv_c2w", "opencv_w2c", "opengl_c2w")
DEFAULT_SIZE = (480, 720)
_TOP_FIELDS = {"format", "version", "convention", "height", "width", "intrinsics", "frames", "metadata"}


def _number(path, field, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(path, field, f"expected a number, got {value!r}")
    if not torch.isfinite(torch.tensor(float(value))):
        raise InputError(path, field, f"expected a finite number, got {value!r}")
    return float(value)


def _size(path, obj: dict, hkey: str, wkey: str) -> tuple[int, int]:
    h, w = (_number(path, k, obj[k]) if k in obj else None for k in (hkey, wkey))
    if h is None or w is None:
        raise InputError(path, hkey if h is None else wkey, "missing image size")
    if h < 1 or w < 1 or h != int(h) or w != int(w):
        raise InputError(path, hkey, f"expected positive integer image size, got {h}x{w}")
    return int(h), int(w)


def _intrinsics(path, field: str, obj, height: int, width: int) -> torch.Tensor:
    if not isinstance(obj, dict):
        raise InputError(path, field, "expected an object with fx, fy, cx, cy or fov_y_degrees")
    if "fov_y_degrees" in obj:
        fov = _number(path, f"{field}.fov_y_degrees", obj["fov_y_degrees"])
        if not 0 < fov < 180:
            raise InputError(path, f"{field}.fov_y_degrees", f"expected a value in (0, 180), got {fov}")
        return K_from_fov(fov, height, width)
    missing = [k for k in ("fx", "fy", "cx", "cy") if k not in obj]
    if missing:
        raise InputError(path, field, f"missing {', '.join(missing)} (or give fov_y_degrees)")
    fx, fy, cx, cy = (_number(path, f"{field}.{k}", obj[k]) for k in ("fx", "fy", "cx", "cy"))
    if fx <= 0 or fy <= 0:
        raise InputError(path, field, f"focal lengths must be positive, got fx={fx}, fy={fy}")
    return make_K(fx, fy, cx, cy)


def _matrix(path, field: str, rows) -> torch.Tensor:
    try:
        m = torch.tensor(rows, dtype=torch.float64)
    except (TypeError, ValueError):
        raise InputError(path, field, "expected a 4x4 or 3x4 list of numbers") from None
    if m.shape not in ((4, 4), (3, 4)):
        raise InputError(path, field, f"expected a 4x4 or 3x4 matrix, got shape {tuple(m.shape)}")
    if not torch.isfinite(m).all():
        raise InputError(path, field, "contains NaN or inf")
    if m.shape == (4, 4) and not torch.allclose(m[3], torch.tensor([0.0, 0, 0, 1], dtype=m.dtype), atol=1e-6):
        raise InputError(path, field, f"last row must be [0, 0, 0, 1], got {m[3].tolist()}")
    out = torch.eye(4, dtype=torch.float64)
    out[:3] = m[:3]
    if not is_rotation(out[:3, :3]):
        raise InputError(path, field, "rotation part is not a rotation matrix (orthonormal, det +1)")
    return out


def check_frame_count(path, cams: Cameras, num_frames: int | None) -> Cameras:
    if num_frames is not None and len(cams) != num_frames:
        raise InputError(path, "frames", f"expected {num_frames} frames, got {len(cams)}")
    return cams


def _load_project_json(path: Path, data: dict) -> Cameras:
    unknown = set(data) - _TOP_FIELDS
    if unknown:
        raise InputError(path, sorted(unknown)[0], f"unknown field; expected fields {sorted(_TOP_FIELDS)}")
    if data.get("format", FORMAT) != FORMAT:
        raise InputError(path, "format", f"expected '{FORMAT}', got {data['format']!r}")
    if data.get("version", 1) != 1:
        raise InputError(path, "version", f"unsupported version {data['version']!r} (this reader knows 1)")
    if "convention" not in data:
        raise InputError(path, "convention", f"missing; expected one of {list(CONVENTIONS)}")
    conv = data["convention"]
    if conv not in CONVENTIONS:
        raise InputError(path, "convention", f"unknown convention {conv!r}; expected one of {list(CONVENTIONS)}")
    height, width = _size(path, data, "height", "width")
    frames = data.get("frames")
    if not isinstance(frames, list) or not frames:
        raise InputError(path, "frames", "expected a non-empty list of {\"pose\": ...} objects")
    default_K = _intrinsics(path, "intrinsics", data["intrinsics"], height, width) if "intrinsics" in data else None
    poses, Ks = [], []
    for i, fr in enumerate(frames):
        if not isinstance(fr, dict) or "pose" not in fr:
            raise InputError(path, f"frames[{i}]", "expected an object with a 'pose' field")
        poses.append(_matrix(path, f"frames[{i}].pose", fr["pose"]))
        if "intrinsics" in fr:
            Ks.append(_intrinsics(path, f"frames[{i}].intrinsics", fr["intrinsics"], height, width))
        elif default_K is not None:
            Ks.append(default_K)
        else:
            raise InputError(path, "intrinsics", f"missing (neither top-level nor in frames[{i}])")
    pose, K = torch.stack(poses), torch.stack(Ks)
    if conv == "opencv_w2c":
        return Cameras.from_w2c(pose, K, height, width)
    if conv == "opengl_c2w":
        return Cameras.from_opengl_c2w(pose, K, height, width)
    return Cameras(pose, K, height, width)


def _check_finite_rotations(path, c2w: torch.Tensor, K: torch.Tensor, field) -> None:
    """Poses (F, 4, 4) finite and rigid, K (F, 3, 3) finite with positive focal lengths; `field(i)` names frame i."""
    for i in range(len(c2w)):
        if not (torch.isfinite(c2w[i]).all() and torch.isfinite(K[i]).all()):
            raise InputError(path, field(i), "contains NaN or inf")
        if not is_rotation(c2w[i, :3, :3]):
            raise InputError(path, field(i), "rotation part is not a rotation matrix (orthonormal, det +1)")
        if K[i, 0, 0] <= 0 or K[i, 1, 1] <= 0:
            raise InputError(path, field(i), f"focal lengths must be positive, got fx={float(K[i, 0, 0]):g}, "
                             f"fy={float(K[i, 1, 1]):g}")


def _load_transforms_json(path: Path, data: dict) -> Cameras:
    """nerfstudio: OpenGL c2w `transform_matrix` per frame; intrinsics top-level or per frame; frames sorted
    by file name (wonderland.formats.transforms_json, shared with the DL3DV reader)."""
    t = parse_transforms(path, data)
    if t.size is None:
        raise InputError(path, "h", "missing image size (w, h)")
    cams = transforms_cameras(t)
    _check_finite_rotations(path, cams.c2w, cams.K, lambda i: f"frames[{t.json_index[i]}].transform_matrix")
    return cams


def re10k_size(rows: torch.Tensor, image_size: tuple[int, int] | None = None) -> tuple[int, int]:
    """The frame size a RealEstate10K file (no size of its own) is read at: the image's, when the file gives
    square pixels at the image's aspect (made for it), else RealEstate10K's own 16:9."""
    if image_size is not None and square_pixel_size(rows, *image_size):
        return tuple(image_size)
    return RE10K_SIZE


def load_re10k_txt(path: str | Path, height: int | None = None, width: int | None = None,
                   image_size: tuple[int, int] | None = None) -> tuple[Cameras, list[int]]:
    """RealEstate10K camera file -> (Cameras (F,), timestamps). Read at height x width if both are given, else
    at `re10k_size(rows, image_size)`. Non-finite values and non-rotations are refused, naming the line."""
    f = read_re10k_txt(path)
    size = (height, width) if height is not None and width is not None else re10k_size(f.rows, image_size)
    cams = re10k_cameras(f.rows, *size)
    _check_finite_rotations(path, cams.c2w, cams.K, lambda i: f"line {i + 2}")
    return cams, f.timestamps


def _warn_if_aspect_differs(path: Path, cams: Cameras, image_size: tuple[int, int]) -> None:
    h, w = image_size
    if abs((cams.width / cams.height) / (w / h) - 1) > 0.01:
        warnings.warn(f"{path} describes {cams.height} x {cams.width} images, the image is {h} x {w}: both are "
                      "centre-cropped to the model's aspect, so the camera's field of view may not match the "
                      "picture", stacklevel=3)


def load_trajectory(path: str | Path, num_frames: int | None = None, height: int | None = None,
                    width: int | None = None, image_size: tuple[int, int] | None = None) -> Cameras:
    """Read any supported trajectory file into `Cameras (F,)`. `num_frames`, if given, must match.

    A RealEstate10K `.txt` has no image size of its own: it is read at height x width if both are given, else at
    the size of the image it goes with (`image_size`, (h, w)) when its intrinsics give square pixels there, else
    at RealEstate10K's 16:9. With `image_size`, a trajectory whose aspect differs from the image's is a warning.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "trajectory file not found")
    if path.suffix == ".txt":
        cams, _ = load_re10k_txt(path, height, width, image_size)
    else:
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InputError(path, None, f"malformed JSON ({e})") from None
        if not isinstance(data, dict):
            raise InputError(path, None, "expected a JSON object at the top level")
        is_ns = isinstance(data.get("frames"), list) and data["frames"] and isinstance(data["frames"][0], dict) \
            and "transform_matrix" in data["frames"][0]
        cams = _load_transforms_json(path, data) if is_ns else _load_project_json(path, data)
    if image_size is not None:
        _warn_if_aspect_differs(path, cams, image_size)
    return check_frame_count(path, cams, num_frames)


def _K_json(K: torch.Tensor) -> dict:
    return {"fx": float(K[0, 0]), "fy": float(K[1, 1]), "cx": float(K[0, 2]), "cy": float(K[1, 2])}


def trajectory_to_json(cams: Cameras, convention: str = "opencv_c2w", metadata: dict | None = None) -> dict:
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}")
    pose = {"opencv_c2w": cams.c2w, "opencv_w2c": cams.w2c, "opengl_c2w": cams.to_opengl_c2w()}[convention]
    K = cams.K.double()
    shared = bool(torch.allclose(K, K[:1].expand_as(K)))
    frames = [{"pose": p.double().tolist()} | ({} if shared else {"intrinsics": _K_json(k)})
              for p, k in zip(pose, K)]
    out = {"format": FORMAT, "version": 1, "convention": convention, "height": cams.height, "width": cams.width}
    if shared:
        out["intrinsics"] = _K_json(K[0])
    out["frames"] = frames
    if metadata:
        out["metadata"] = metadata
    return out


def save_trajectory(path: str | Path, cams: Cameras, convention: str = "opencv_c2w",
                    metadata: dict | None = None) -> None:
    """Write the project JSON, one frame per line so the file stays readable and diffable."""
    data = trajectory_to_json(cams, convention, metadata)
    frames = data.pop("frames")
    head = json.dumps(data, indent=2)[:-2]  # drop the closing "\n}"
    body = ",\n".join("    " + json.dumps(fr) for fr in frames)
    with atomic_open(path) as f:
        f.write(f'{head},\n  "frames": [\n{body}\n  ]\n}}\n')


def save_re10k_txt(path: str | Path, cams: Cameras, url: str = "", timestamps: list[int] | None = None) -> None:
    write_re10k_txt(path, cams, timestamps, url)


def save_transforms_json(path: str | Path, cams: Cameras, file_paths: list[str] | None = None) -> None:
    write_transforms_json(path, cams, file_paths)
