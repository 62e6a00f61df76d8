"""Tanks-and-Temples and any COLMAP scene, read with pycolmap.

    <root>/<any/sub/dirs>/<scene>/sparse/0/{cameras,images,points3D}.{bin,txt}
    <root>/.../<scene>/images/<image name>

Registered images only, ordered by name (Tanks frames are numbered in video order). COLMAP's pixel
convention (top-left pixel centre at (0.5, 0.5)) is the project's, so K is used as is; distortion
parameters are ignored (Tanks models are undistorted PINHOLE). All images must share one size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from wonderland.geometry import Cameras

from .scene import CorruptSampleError, Scene, SceneCollection, read_image, require_dir


def _cam_from_world(image) -> np.ndarray:
    pose = image.cam_from_world
    return (pose() if callable(pose) else pose).matrix()  # (3, 4); a method since pycolmap 3.12


class ColmapScene(Scene):
    def __init__(self, key: str, folder: Path):
        import pycolmap

        self.key, self.folder = key, folder
        try:
            rec = pycolmap.Reconstruction(str(folder / "sparse" / "0"))
        except (ValueError, RuntimeError, OSError) as e:
            raise CorruptSampleError(key, "unreadable", f"{folder / 'sparse' / '0'}: {e}") from None
        images = sorted((im for im in rec.images.values() if getattr(im, "has_pose", True)), key=lambda im: im.name)
        if not images:
            raise CorruptSampleError(key, "unreadable", "no registered images")
        cams = [rec.cameras[im.camera_id] for im in images]
        sizes = {(c.height, c.width) for c in cams}
        if len(sizes) != 1:
            raise CorruptSampleError(key, "unreadable", f"images of different sizes {sorted(sizes)}")
        w2c = torch.zeros(len(images), 4, 4, dtype=torch.float64)
        w2c[:, :3] = torch.from_numpy(np.stack([_cam_from_world(im) for im in images]))
        w2c[:, 3, 3] = 1
        K = torch.from_numpy(np.stack([c.calibration_matrix() for c in cams])).double()
        self.frame_files = [folder / "images" / im.name for im in images]
        self.cameras = Cameras.from_w2c(w2c, K, *sizes.pop())

    def read_frame(self, index: int) -> Tensor:
        return read_image(self.frame_files[index], self.key)


def open_colmap(root: str | Path, kind: str = "colmap") -> SceneCollection:
    """Every folder under `root` (root included) with a `sparse/0` model; key = its relative path."""
    root = require_dir(root)
    folders = sorted({p.parent.parent.parent for p in root.rglob("sparse/0/cameras.*")})
    keys = [f.relative_to(root).as_posix() if f != root else root.name for f in folders]
    return SceneCollection(root, keys, lambda i: ColmapScene(keys[i], folders[i]), kind)
