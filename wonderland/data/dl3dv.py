"""DL3DV (nerfstudio layout).

    <root>/<any/sub/dirs>/<key>/transforms.json   frames[i].transform_matrix: OpenGL c2w 4x4;
                                                  intrinsics fl_x fl_y cx cy (w h) top-level or per frame,
                                                  describing the full-resolution `images/`
    <root>/.../<key>/images_4/<name> (or images_8/, images/)   the frames, `name` = basename of file_path

As DL3DV ships it, transforms.json describes the full-resolution images while `images_4` holds them
downsampled, so K is rescaled from the json's (h, w) to the size of the frames actually read.
Parsed and written by `wonderland.formats.transforms_json` (shared with `--trajectory`): frames are ordered
by file name (the json's order is not always temporal). Distortion is ignored.
"""

from __future__ import annotations

from pathlib import Path

from torch import Tensor

from wonderland.errors import InputError
from wonderland.formats import read_transforms_json, transforms_cameras, write_transforms_json
from wonderland.geometry import Cameras
from wonderland.io import atomic_path

from .scene import CorruptSampleError, Scene, SceneCollection, image_size, read_image, require_dir

IMAGE_DIRS = ("images_4", "images_8", "images")


class DL3DVScene(Scene):
    def __init__(self, key: str, folder: Path, images: str | None = None):
        self.key, self.folder = key, folder
        image_dir = folder / images if images else next((folder / d for d in IMAGE_DIRS if (folder / d).is_dir()),
                                                        None)
        if image_dir is None or not image_dir.is_dir():
            raise CorruptSampleError(key, "missing_frame", f"no {images or '/'.join(IMAGE_DIRS)} folder in {folder}")
        try:
            parsed = read_transforms_json(folder / "transforms.json")  # frames sorted by file name
        except InputError as e:
            raise CorruptSampleError(key, "unreadable", str(e)) from None
        if any(p is None for p in parsed.file_paths):
            raise CorruptSampleError(key, "unreadable", f"{folder / 'transforms.json'}: a frame has no file_path")
        self.frame_files = [image_dir / Path(p).name for p in parsed.file_paths]
        h, w = image_size(self.frame_files[0], key)
        # The json's size (default: the frames' own size) is what its intrinsics are in pixels of.
        self.cameras = transforms_cameras(parsed, h, w)

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
    return write_transforms_json(folder / "transforms.json", full, [f"images/{n}" for n in names])
