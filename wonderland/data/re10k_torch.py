"""RealEstate10K / ACID in the pixelSplat chunk format (layout b).

    <root>/<split>/<chunk>.torch   torch.save of a list of dicts, one per video:
                                   url: str, timestamps: int64 (F,), cameras: float (F, 18) (an RE10K line
                                   without its timestamp), images: list of uint8 tensors of JPEG bytes, key: str
    <root>/<split>/index.json      optional {key: "<chunk>.torch"}; without it every chunk is read once to
                                   list its keys.

A chunk holds many videos and is large, so each process keeps only the most recent chunks in memory.
"""

from __future__ import annotations

import io
import json
import logging
import pickle
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from wonderland.geometry import Cameras

from .scene import CorruptSampleError, Scene, SceneCollection, require_dir

log = logging.getLogger(__name__)
_LOAD_ERRORS = (KeyError, RuntimeError, ValueError, OSError, EOFError, pickle.UnpicklingError)


@lru_cache(maxsize=2)
def _load_chunk(path: Path) -> dict[str, dict]:
    return {ex["key"]: ex for ex in torch.load(path, weights_only=True)}


def _decode_jpeg(data: Tensor, key: str, index: int) -> Tensor:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data.numpy().tobytes())) as im:
            arr = np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise CorruptSampleError(key, "corrupt_frame", f"frame {index}: {e}") from None
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)  # (3, H, W) uint8


class TorchChunkScene(Scene):
    def __init__(self, key: str, chunk: Path):
        self.key, self.chunk = key, chunk
        try:
            ex = _load_chunk(chunk)[key]
            rows = torch.as_tensor(ex["cameras"], dtype=torch.float64).reshape(-1, 18)
            self.images, self.url = list(ex["images"]), ex.get("url", "")
            self.timestamps = [int(t) for t in ex["timestamps"]]
        except _LOAD_ERRORS as e:
            raise CorruptSampleError(key, "unreadable", f"{chunk}: {e!r}") from None
        if len(self.images) != len(rows):
            raise CorruptSampleError(key, "unreadable", f"{len(self.images)} images for {len(rows)} cameras")
        h, w = _decode_jpeg(self.images[0], key, 0).shape[-2:]
        self.cameras = Cameras.from_re10k(rows, h, w)

    def read_frame(self, index: int) -> Tensor:
        return _decode_jpeg(self.images[index], self.key, index)


def open_re10k_torch(root: str | Path, kind: str = "re10k_torch") -> SceneCollection:
    """Every video of every `*.torch` chunk under `root` (a split folder or the dataset root)."""
    root = require_dir(root)
    entries: dict[str, Path] = {}
    for folder in sorted({p.parent for p in root.rglob("*.torch")}):
        index = folder / "index.json"
        if index.is_file():
            entries.update({k: folder / v for k, v in json.loads(index.read_text()).items()})
            continue
        for chunk in sorted(folder.glob("*.torch")):
            try:
                entries.update({k: chunk for k in _load_chunk(chunk)})
            except _LOAD_ERRORS as e:
                log.warning("skipping unreadable chunk %s: %r", chunk, e)
    keys = sorted(entries)
    return SceneCollection(root, keys, lambda i: TorchChunkScene(keys[i], entries[keys[i]]), kind)
