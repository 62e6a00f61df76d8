"""DL3DV (nerfstudio layout).

    <root>/<any/sub/dirs>/<key>/transforms.json   frames[i].transform_matrix: OpenGL c2w 4x4;
                                                  intrinsics fl_x fl_y cx cy (w h) top-level or per frame,
                                                  describing the full-resolution `images/`
    <root>/.../<key>/images_4/<name> (or images_8/, images/)   the frames, `name` = basename of file_path

As DL3DV ships it, transforms.json describes the full-resolution images while `images_4` holds them
downsampled, so K is rescaled from the json's (h, w) to the size of the frames actually read.
Frames are ordered by file name (the json's order is not always temporal). Distortion is ignored.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from torch import Tensor

from wonderland.geometry import Cameras, make_K
from wonderland.io import atomic_path, write_json

from .scene import CorruptSampleError, Scene, SceneCollection, image_size, read_image, require_dir

IMAGE_DIRS = ("images_4", "images_8", "images")


def _natural(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


class DL3DVScene(Scene):
    def __init__(self, key: str, folder: Path, images: str | None = None):
        self.key, self.folder = key, folder
        image_dir = folder / images if images else next((folder / d for d in IMAGE_DIRS if (folder / d).is_dir()),
                                                        None)
        if image_dir is None or not image_dir.is_dir():
            raise CorruptSampleError(key, "missing_frame", f"no {images or '/'.join(IMAGE_DIRS)} folder in {folder}")
        try:
            data = json.loads((folder / "transforms.json").read_text())
            frames = sorted(data["frames"], key=lambda fr: _natural(Path(fr["file_path"]).name))
            c2w_gl = torch.tensor([fr["transform_matrix"] for fr in frames], dtype=torch.float64).reshape(-1, 4, 4)
            intr = [[float({**data, **fr}.get(k, float("nan"))) for k in ("fl_x", "fl_y", "cx", "cy", "w", "h")]
                    for fr in frames]
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
            raise CorruptSampleError(key, "unreadable", f"{folder / 'transforms.json'}: {e!r}") from None
        if not frames:
            raise CorruptSampleError(key, "unreadable", "transforms.json has no frames")
        self.frame_files = [image_dir / Path(fr["file_path"]).name for fr in frames]
        h, w = image_size(self.frame_files[0], key)
        fx, fy, cx, cy, jw, jh = torch.tensor(intr, dtype=torch.float64).unbind(-1)
        fy = torch.where(torch.isnan(fy), fx, fy)
        # The json's size (default: the frames' own size) is what its intrinsics are in pixels of.
        jw, jh = torch.nan_to_num(jw, nan=w), torch.nan_to_num(jh, nan=h)
        cx, cy = torch.where(torch.isnan(cx), jw / 2, cx), torch.where(torch.isnan(cy), jh / 2, cy)
        K = make_K(fx * w / jw, fy * h / jh, cx * w / jw, cy * h / jh)
        self.cameras = Cameras.from_opengl_c2w(c2w_gl, K, h, w)

    def read_frame(self, index: int) -> Tensor:
        return read_image(self.frame_files[index], self.key)


def open_dl3dv(root: str | Path, images: str | None = None, kind: str = "dl3dv") -> SceneCollection:
    """Every folder under `root` holding a transforms.json; key = its path relative to root."""
    root = require_dir(root)
    folders = sorted(p.parent for p in root.rglob("transforms.json"))
    keys = [f.relative_to(root).as_posix() if f != root else root.name for f in folders]
    return SceneCollection(root, keys, lambda i: DL3DVScene(keys[i], folders[i], images), kind)


def write_dl3dv_scene(root: str | Path, key: str, cameras: Cameras, frames: Tensor, downscale: int = 4,
                      ext: str = ".png") -> Path:
    """Write one scene as DL3DV ships it: frames uint8 (F, 3, H, W) in `images_<downscale>/`, and a
    transforms.json whose intrinsics and file paths describe the `downscale`x larger `images/`."""
    from PIL import Image

    folder = Path(root) / key
    image_dir = folder / f"images_{downscale}"
    image_dir.mkdir(parents=True, exist_ok=True)
    names = [f"frame_{i + 1:05d}{ext}" for i in range(len(cameras))]
    for name, im in zip(names, frames.permute(0, 2, 3, 1).numpy()):
        with atomic_path(image_dir / name) as tmp:
            Image.fromarray(im).save(tmp)
    full = cameras.resize(cameras.height * downscale, cameras.width * downscale)
    intr = [{"fl_x": k[0][0], "fl_y": k[1][1], "cx": k[0][2], "cy": k[1][2]} for k in full.K.double().tolist()]
    shared = all(k == intr[0] for k in intr)  # DL3DV itself has one global camera
    frames_json = [{"file_path": f"images/{n}", "transform_matrix": m.tolist()} | ({} if shared else k)
                   for n, m, k in zip(names, full.to_opengl_c2w().double(), intr)]
    write_json(folder / "transforms.json", {"w": full.width, "h": full.height, **(intr[0] if shared else {}),
                                            "camera_model": "OPENCV", "frames": frames_json})
    return folder / "transforms.json"
