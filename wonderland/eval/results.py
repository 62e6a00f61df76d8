"""Per-clip evaluation results: a JSONL log a rerun resumes from, and the `--shard i/n` split.

Each shard appends to its own file in the output folder (`clips.jsonl`, or `clips.shard-<i>-of-<n>.jsonl`),
so parallel processes never write to one file; every shard reads all of them, so a rerun with any
shard count skips the clips already finished. A line is appended (and fsynced) only when its clip is
complete; a crash mid-write leaves at most a partial last line, which is ignored and cut off before
the next append. Non-finite floats are written as null (strict JSON).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from ..errors import InputError

CLIP_ID = "clip_id"
T = TypeVar("T")


def parse_shard(text: str) -> tuple[int, int]:
    """'i/n' (0-based: 0/4 .. 3/4) -> (i, n)."""
    try:
        i, n = (int(p) for p in text.split("/"))
    except ValueError:
        raise InputError(None, "shard", "expected 'i/n' such as 0/4", value=text) from None
    if n < 1 or not 0 <= i < n:
        raise InputError(None, "shard", "expected 'i/n' with 0 <= i < n (shards are numbered from 0)", value=text)
    return i, n


def shard_items(items: Sequence[T], index: int, count: int) -> list[T]:
    """Every `count`-th item from `index`: disjoint shards that together cover `items`, each a mix of
    the index (so a dataset sorted by difficulty does not land on one worker)."""
    return list(items[index::count])


def log_name(index: int = 0, count: int = 1) -> str:
    return "clips.jsonl" if count == 1 else f"clips.shard-{index}-of-{count}.jsonl"


def _json_safe(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    return obj


def _read_log(path: Path) -> list[dict]:
    *complete, _partial = path.read_text().split("\n")  # `_partial` is non-empty only after a crash
    records = []
    for n, line in enumerate(complete, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise InputError(path, f"line {n}", f"not a JSON record ({err}); the log is damaged") from None
        if CLIP_ID not in records[-1]:
            raise InputError(path, f"line {n}", f"record without {CLIP_ID!r}")
    return records


def read_results(out_dir: str | os.PathLike) -> list[dict]:
    """Every finished clip's record from all shard logs in `out_dir`, one per clip id (the first)."""
    seen: dict[str, dict] = {}
    for path in sorted(Path(out_dir).glob("clips*.jsonl")):
        for record in _read_log(path):
            seen.setdefault(str(record[CLIP_ID]), record)
    return list(seen.values())


class ResultsLog:
    """The per-clip JSONL log of one shard in `out_dir`."""

    def __init__(self, out_dir: str | os.PathLike, shard: tuple[int, int] = (0, 1)) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / log_name(*shard)
        self._done = {str(r[CLIP_ID]) for r in read_results(self.out_dir)} if self.out_dir.exists() else set()

    def done(self) -> set[str]:
        return set(self._done)

    def pending(self, clip_ids: Iterable[str]) -> list[str]:
        return [c for c in clip_ids if str(c) not in self._done]

    def append(self, record: dict) -> None:
        if CLIP_ID not in record:
            raise ValueError(f"a result record needs {CLIP_ID!r}")
        line = json.dumps(_json_safe(record), allow_nan=False) + "\n"
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._cut_partial_tail()
        with open(self.path, "a") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        self._done.add(str(record[CLIP_ID]))

    def _cut_partial_tail(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(self.path, "r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)
