"""Evaluation indices: which frames of which scenes an evaluation uses, fixed in a JSON file.

- `EvalIndex`: our own seeded list of clips (scene key, start frame, stride, number of frames),
      {"format": "wonderland-eval-index", "version": 1, "seed": 0, "entries": [{"key", "start", "stride",
       "num_frames"}, ...]}
- `read_pixelsplat_index`: the pixelSplat / MVSplat / LVSM index, read unchanged:
      {scene_key: {"context": [i, ...], "target": [j, ...]} | null}
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

from wonderland.errors import InputError
from wonderland.io import write_json

FORMAT, VERSION = "wonderland-eval-index", 1


@dataclass(frozen=True)
class EvalEntry:
    key: str
    start: int
    stride: int
    num_frames: int

    @property
    def indices(self) -> list[int]:
        return list(range(self.start, self.start + (self.num_frames - 1) * self.stride + 1, self.stride))


@dataclass
class EvalIndex:
    entries: list[EvalEntry]
    seed: int | None = None
    metadata: dict = field(default_factory=dict)

    @classmethod
    def build(cls, scene_lengths: Mapping[str, int], count: int, num_frames: int = 49,
              strides: Sequence[int] = (1,), seed: int = 0) -> EvalIndex:
        """Up to `count` clips from distinct scenes, drawn in a seeded order; scenes too short for every
        stride are passed over. `scene_lengths` maps scene key -> number of frames (e.g. from a collection:
        `{s.key: s.num_frames for s in scenes}`)."""
        rng = random.Random(seed)
        keys = sorted(scene_lengths)
        rng.shuffle(keys)
        entries = []
        for key in keys:
            fits = [s for s in strides if (num_frames - 1) * s + 1 <= scene_lengths[key]]
            if not fits:
                continue
            stride = rng.choice(fits)
            start = rng.randint(0, scene_lengths[key] - (num_frames - 1) * stride - 1)
            entries.append(EvalEntry(key, start, stride, num_frames))
            if len(entries) == count:
                break
        return cls(entries, seed)

    @classmethod
    def from_scenes(cls, scenes: Sequence, count: int, num_frames: int = 49, strides: Sequence[int] = (1,),
                    seed: int = 0) -> EvalIndex:
        """`build` over the scenes of a collection that can be read and have valid cameras."""
        from .scene import CorruptSampleError, check_cameras

        lengths = {}
        for i in range(len(scenes)):
            try:
                scene = scenes[i]
                check_cameras(scene.key, scene.cameras)
            except CorruptSampleError:
                continue
            lengths[scene.key] = scene.num_frames
        return cls.build(lengths, count, num_frames, strides, seed)

    def save(self, path: str | Path) -> None:
        write_json(path, {"format": FORMAT, "version": VERSION, "seed": self.seed, "metadata": self.metadata,
                          "entries": [asdict(e) for e in self.entries]})

    @classmethod
    def load(cls, path: str | Path) -> EvalIndex:
        data = _read_json(path)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(path, "format", f"expected {FORMAT!r}")
        if data.get("version") != VERSION:
            raise InputError(path, "version", f"unsupported version {data.get('version')!r} (expected {VERSION})")
        entries = []
        for i, e in enumerate(data.get("entries", [])):
            try:
                entry = EvalEntry(str(e["key"]), int(e["start"]), int(e["stride"]), int(e["num_frames"]))
            except (KeyError, TypeError, ValueError):
                raise InputError(path, f"entries[{i}]", "expected key, start, stride, num_frames") from None
            if entry.start < 0 or entry.stride < 1 or entry.num_frames < 1:
                raise InputError(path, f"entries[{i}]", "start >= 0, stride >= 1 and num_frames >= 1 required")
            entries.append(entry)
        return cls(entries, data.get("seed"), data.get("metadata") or {})


class EvalViews(NamedTuple):
    context: list[int]
    target: list[int]


def read_pixelsplat_index(path: str | Path) -> dict[str, EvalViews | None]:
    """The pixelSplat evaluation index as stored; scenes mapped to null (no valid views) stay None."""
    data = _read_json(path)
    if not isinstance(data, dict):
        raise InputError(path, None, "expected an object {scene_key: {context, target}}")
    out: dict[str, EvalViews | None] = {}
    for key, views in data.items():
        if views is None:
            out[key] = None
            continue
        ok = isinstance(views, dict) and all(
            isinstance(views.get(k), list) and all(isinstance(i, int) for i in views[k]) for k in ("context", "target"))
        if not ok:
            raise InputError(path, key, "expected {'context': [int, ...], 'target': [int, ...]} or null")
        out[key] = EvalViews(views["context"], views["target"])
    return out


def _read_json(path: str | Path):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(path, None, f"malformed JSON ({e})") from None
