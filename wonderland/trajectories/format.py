"""Trajectory files: the project's JSON format, RealEstate10K camera `.txt`, nerfstudio `transforms.json`.

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
from pathlib import Path

import torch

from ..errors import InputError
from ..geometry import Cameras, K_from_fov, is_rotation, make_K
from ..io import atomic_open, write_json

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


def _load_transforms_json(path: Path, data: dict) -> Cameras:
    """nerfstudio: OpenGL c2w `transform_matrix` per frame; intrinsics top-level or per frame."""
    poses, Ks, size = [], [], None
    for i, fr in enumerate(data["frames"]):
        src = {**data, **fr}
        h, w = _size(path, src, "h", "w")
        if size not in (None, (h, w)):
            raise InputError(path, f"frames[{i}].h", "all frames must share one image size")
        size = (h, w)
        if "transform_matrix" not in fr:
            raise InputError(path, f"frames[{i}].transform_matrix", "missing")
        poses.append(_matrix(path, f"frames[{i}].transform_matrix", fr["transform_matrix"]))
        vals = {k: _number(path, f"frames[{i}].{k}", src[k]) if k in src else None
                for k in ("fl_x", "fl_y", "cx", "cy")}
        if vals["fl_x"] is None:
            raise InputError(path, f"frames[{i}].fl_x", "missing focal length")
        fy = vals["fl_y"] if vals["fl_y"] is not None else vals["fl_x"]
        cx = vals["cx"] if vals["cx"] is not None else w / 2
        cy = vals["cy"] if vals["cy"] is not None else h / 2
        Ks.append(make_K(vals["fl_x"], fy, cx, cy))
    return Cameras.from_opengl_c2w(torch.stack(poses), torch.stack(Ks), *size)


def load_re10k_txt(path: str | Path, height: int = DEFAULT_SIZE[0], width: int = DEFAULT_SIZE[1]
                   ) -> tuple[Cameras, list[int]]:
    """RealEstate10K camera file: URL line, then `timestamp fx fy cx cy 0 0 <3x4 w2c row-major>`."""
    path = Path(path)
    lines = [ln.split() for ln in path.read_text().splitlines()[1:] if ln.strip()]
    if not lines:
        raise InputError(path, "line 2", "no camera lines after the URL line")
    rows, stamps = [], []
    for n, parts in enumerate(lines, start=2):
        if len(parts) != 19:
            raise InputError(path, f"line {n}", f"expected 19 numbers (timestamp + 18), got {len(parts)}")
        try:
            stamps.append(int(parts[0]))
            rows.append([float(x) for x in parts[1:]])
        except ValueError:
            raise InputError(path, f"line {n}", "expected numbers") from None
    rows_t = torch.tensor(rows, dtype=torch.float64)
    if not torch.isfinite(rows_t).all():
        bad = int((~torch.isfinite(rows_t)).any(-1).nonzero()[0]) + 2
        raise InputError(path, f"line {bad}", "contains NaN or inf")
    cams = Cameras.from_re10k(rows_t, height, width)
    bad = (~is_rotation(cams.c2w[:, :3, :3])).nonzero()
    if len(bad):
        raise InputError(path, f"line {int(bad[0]) + 2}", "rotation part is not a rotation matrix")
    return cams, stamps


def load_trajectory(path: str | Path, num_frames: int | None = None, height: int | None = None,
                    width: int | None = None) -> Cameras:
    """Read any supported trajectory file into `Cameras (F,)`. `num_frames`, if given, must match.

    height/width set the image size of RE10K `.txt` files (their intrinsics are normalised).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "trajectory file not found")
    if path.suffix == ".txt":
        cams, _ = load_re10k_txt(path, height or DEFAULT_SIZE[0], width or DEFAULT_SIZE[1])
        return check_frame_count(path, cams, num_frames)
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(path, None, f"malformed JSON ({e})") from None
    if not isinstance(data, dict):
        raise InputError(path, None, "expected a JSON object at the top level")
    is_ns = isinstance(data.get("frames"), list) and data["frames"] and isinstance(data["frames"][0], dict) \
        and "transform_matrix" in data["frames"][0]
    cams = _load_transforms_json(path, data) if is_ns else _load_project_json(path, data)
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
    rows = cams.to_re10k().double()
    stamps = timestamps if timestamps is not None else list(range(len(cams)))
    with atomic_open(path) as f:
        f.write(url + "\n")
        for t, r in zip(stamps, rows):
            f.write(" ".join([str(int(t))] + [repr(float(x)) for x in r]) + "\n")


def save_transforms_json(path: str | Path, cams: Cameras, file_paths: list[str] | None = None) -> None:
    names = file_paths or [f"images/frame_{i:05d}.png" for i in range(len(cams))]
    frames = [{"file_path": n, "transform_matrix": m.double().tolist(), "fl_x": float(k[0, 0]),
               "fl_y": float(k[1, 1]), "cx": float(k[0, 2]), "cy": float(k[1, 2])}
              for n, m, k in zip(names, cams.to_opengl_c2w(), cams.K)]
    write_json(path, {"camera_model": "OPENCV", "w": cams.width, "h": cams.height, "frames": frames})
