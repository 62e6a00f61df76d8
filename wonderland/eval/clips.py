"""The evaluation index of a run: built once (seeded) or read from a given file, then fixed in
`<output_dir>/index.json`, so a rerun, another shard or another machine evaluates the same clips.

A given index may be ours (`EvalIndex` JSON) or the pixelSplat / MVSplat / LVSM RE10K index
`{scene_key: {"context": [...], "target": [...]} | null}`, read unchanged: each scene that is in the
dataset becomes one clip that starts at its first context frame, at the stride that makes the clip
span the context views (so the targets lie inside it), shortened or moved back where the video ends.
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..data.eval_index import EvalEntry, EvalIndex, EvalViews, read_pixelsplat_index
from ..data.sampling import clip_span
from ..errors import InputError

log = logging.getLogger(__name__)
INDEX_FILE = "index.json"


def clip_id(entry: EvalEntry) -> str:
    """Unique per clip of an index: scene key, start frame and stride."""
    return f"{entry.key}@{entry.start}x{entry.stride}"


def index_from_pixelsplat(views: Mapping[str, EvalViews | None], lengths: Mapping[str, int], num_frames: int,
                          count: int | None = None, seed: int = 0) -> EvalIndex:
    """pixelSplat views + scene lengths (key -> frames) -> up to `count` clips (seeded choice, in the
    index's order); scenes that are null, absent from the dataset or shorter than a clip are left out."""
    entries = []
    for key, v in views.items():
        if v is None or key not in lengths or lengths[key] < num_frames:
            continue
        first, last = min(v.context), max(v.context)
        stride = max(1, round((last - first) / max(num_frames - 1, 1)))
        stride = min(stride, (lengths[key] - 1) // max(num_frames - 1, 1))  # >= 1: the video holds a clip
        start = min(first, lengths[key] - clip_span(num_frames, stride))
        entries.append(EvalEntry(key, start, stride, num_frames))
    dropped = sum(v is not None for v in views.values()) - len(entries)
    if dropped:
        log.warning("%d scene(s) of the pixelSplat index are not in the dataset or too short; left out", dropped)
    if count is not None and count < len(entries):
        keep = set(random.Random(seed).sample(range(len(entries)), count))
        entries = [e for i, e in enumerate(entries) if i in keep]
    return EvalIndex(entries, seed, {"source": "pixelsplat"})


def _is_ours(path: Path) -> bool:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return False  # the readers below give the precise error
    return isinstance(data, dict) and "format" in data and "entries" in data


def resolve_index(out_dir: str | os.PathLike, scenes: Sequence, num_frames: int, count: int | None,
                  strides: Sequence[int], seed: int, given: str | os.PathLike | None = None) -> EvalIndex:
    """The run's index: the given file (ours or pixelSplat's), else `<out_dir>/index.json` from an
    earlier run, else a new seeded one over `scenes` (a `SceneCollection`). Written to
    `<out_dir>/index.json`; a different index over an existing one is refused (results would mix), and
    so is one with clips of another length or of scenes the dataset lacks."""
    out = Path(out_dir) / INDEX_FILE
    if given is not None:
        given = Path(given)
        if _is_ours(given):
            index = EvalIndex.load(given)
        else:
            views, known = read_pixelsplat_index(given), set(scenes.keys)
            lengths = {k: scenes[scenes.position(k)].num_frames for k in views if k in known}
            index = index_from_pixelsplat(views, lengths, num_frames, count, seed)
            index.metadata["source"] = f"pixelsplat:{given}"
    elif out.exists():
        return EvalIndex.load(out)
    else:
        index = EvalIndex.from_scenes(scenes, count or len(scenes), num_frames, strides, seed)
    if not index.entries:
        raise InputError(given or out, "entries", "no clip of the index can be evaluated on this dataset")
    known = set(scenes.keys)
    bad = [e for e in index.entries if e.num_frames != num_frames or e.key not in known]
    if bad:
        raise InputError(given or out, "entries", f"{len(bad)} clip(s) are not {num_frames}-frame clips of scenes "
                         f"in {scenes.root} (first: {clip_id(bad[0])})")
    if out.exists() and EvalIndex.load(out).entries != index.entries:
        raise InputError(out, None, "this output folder was evaluated on another index; use a new output_dir")
    index.save(out)
    return index
