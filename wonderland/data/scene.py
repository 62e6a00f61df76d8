"""The one scene type every reader produces, and the errors that make a training sample skippable.

A `Scene` holds its cameras (OpenCV c2w, pixel K at the native image size, in the dataset's units) and
decodes frames only when asked: a video has hundreds of frames and a dataset thousands of videos.
A `SceneCollection` lists scenes cheaply at construction and builds each `Scene` on access, so a
corrupt camera file costs one skipped sample, not a failed start-up.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from wonderland.errors import InputError
from wonderland.geometry import Cameras, is_rotation

from .shims import center_crop_resize_images

# Why a sample was skipped; the order is the layout of the `skipped` count vector in a batch.
SKIP_REASONS = ("missing_frame", "corrupt_frame", "bad_pose", "too_few_frames", "unreadable")


class CorruptSampleError(Exception):
    """A scene (or one of its frames) cannot give a training sample. `reason` is one of SKIP_REASONS."""

    def __init__(self, key: str, reason: str, detail: str):
        if reason not in SKIP_REASONS:
            raise ValueError(f"unknown skip reason {reason!r}")
        self.key, self.reason, self.detail = key, reason, detail
        super().__init__(f"scene {key}: {reason}: {detail}")


def read_image(path: Path, key: str) -> Tensor:
    """Decode an image file to uint8 (3, H, W); a missing or undecodable file is a `CorruptSampleError`."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB"))
    except FileNotFoundError:
        raise CorruptSampleError(key, "missing_frame", f"{path} not found") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:  # PIL raises all of these
        raise CorruptSampleError(key, "corrupt_frame", f"{path}: {e}") from None
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)


def image_size(path: Path, key: str) -> tuple[int, int]:
    """(height, width) from the image header only (no decode)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.height, im.width
    except FileNotFoundError:
        raise CorruptSampleError(key, "missing_frame", f"{path} not found") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise CorruptSampleError(key, "corrupt_frame", f"{path}: {e}") from None


def check_cameras(key: str, cams: Cameras) -> None:
    """Raise `CorruptSampleError('bad_pose')` unless every pose is finite and rigid and every K is usable."""
    finite = torch.isfinite(cams.c2w).all() and torch.isfinite(cams.K).all()
    if not finite:
        raise CorruptSampleError(key, "bad_pose", "non-finite camera values")
    bad = (~is_rotation(cams.c2w[..., :3, :3])).nonzero()
    if len(bad):
        raise CorruptSampleError(key, "bad_pose", f"frame {int(bad[0])} has a non-rotation pose")
    if (cams.K[..., 0, 0] <= 0).any() or (cams.K[..., 1, 1] <= 0).any():
        raise CorruptSampleError(key, "bad_pose", "non-positive focal length")


class Scene(ABC):
    """One video: `num_frames` frames with `cameras` (F,) at the native image size."""

    key: str
    cameras: Cameras

    @property
    def num_frames(self) -> int:
        return len(self.cameras)

    @abstractmethod
    def read_frame(self, index: int) -> Tensor:
        """Frame `index` at native size, uint8 (3, H, W). Raises `CorruptSampleError`."""

    def load_frames(self, indices: Sequence[int], height: int | None = None, width: int | None = None
                    ) -> tuple[Tensor, Cameras]:
        """Frames (n, 3, H, W) float32 in [0, 1] and their cameras (n,), centre-cropped to the aspect of
        (height, width) and resized (native size when both are None)."""
        idx = [int(i) for i in indices]
        if any(i < 0 or i >= self.num_frames for i in idx):
            raise IndexError(f"scene {self.key}: frame indices {idx} outside [0, {self.num_frames})")
        cams = self.cameras[torch.tensor(idx, dtype=torch.long)]
        native = (cams.height, cams.width)
        frames = []
        for i in idx:
            im = self.read_frame(i)
            if tuple(im.shape[-2:]) != native:
                raise CorruptSampleError(self.key, "corrupt_frame",
                                         f"frame {i} is {tuple(im.shape[-2:])}, the scene's frames are {native}")
            frames.append(im)
        out = torch.stack(frames).float() / 255  # (n, 3, H, W)
        if height is None and width is None:
            return out, cams
        height, width = height or cams.height, width or cams.width
        top, left, h, w = cams.center_crop_box(height, width)
        return center_crop_resize_images(out, (top, left, h, w), height, width), cams.center_crop_resize(height, width)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self.key!r}, num_frames={self.num_frames})"


class SceneCollection(Sequence):
    """Scenes of one dataset root: `keys` listed at construction, each `Scene` built on access.

    `build(i)` may raise `CorruptSampleError` (an unreadable camera file); datasets skip such scenes. A root
    where no scene is readable is an `InputError` at construction.
    """

    def __init__(self, root: str | Path, keys: Sequence[str], build: Callable[[int], Scene], kind: str):
        if not keys:
            raise InputError(root, None, f"no readable {kind} scenes found")
        self.root, self.keys, self._build, self.kind = Path(root), list(keys), build, kind
        self._probe()

    def _probe(self) -> None:
        """Fail at start-up, not mid-training, when no scene at all can be read (usually one scene is tried)."""
        first = None
        for i in range(len(self)):
            try:
                self._build(i)
                return
            except CorruptSampleError as e:
                first = first or e
        raise InputError(self.root, None, f"none of the {len(self)} {self.kind} scenes is readable ({first})")

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self._build(i % len(self))

    def position(self, key: str) -> int:
        return self.keys.index(key)

    def __repr__(self) -> str:
        return f"SceneCollection({self.kind}, {self.root}, {len(self)} scenes)"


def require_dir(root: str | Path) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, None, "dataset root does not exist or is not a folder")
    return root
