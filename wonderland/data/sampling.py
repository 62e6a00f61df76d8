"""View samplers (SPEC.md sections 2-3), separate from storage: they see frame counts, never files.

- `sample_clip`: `num_frames` frames at a fixed stride (RE10K {3,4,5}, ACID {1,2}, DL3DV 1).
- `sample_supervision_views`: the LaLRM's V seen views (inside the clip) + V unseen views (same video,
  outside the clip).
Both accept a `random.Random` or a `torch.Generator`, so datasets and scripts share them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch

from .eval_index import EvalEntry, EvalIndex, EvalViews, read_pixelsplat_index

__all__ = ["CLIP_STRIDES", "TooFewFramesError", "sample_clip", "sample_supervision_views", "clip_span", "EvalEntry",
           "EvalIndex", "EvalViews", "read_pixelsplat_index"]

Rng = random.Random | torch.Generator

# Frame strides of a 49-frame training clip per dataset kind (SPEC.md section 2); COLMAP scenes: consecutive frames.
CLIP_STRIDES = {"re10k": (3, 4, 5), "re10k_torch": (3, 4, 5), "acid": (1, 2), "acid_torch": (1, 2), "dl3dv": (1,),
                "colmap": (1,), "tanks": (1,)}


class TooFewFramesError(ValueError):
    """The video is shorter than the requested clip."""


def _randint(rng: Rng | None, low: int, high: int) -> int:
    """Uniform integer in [low, high]."""
    if isinstance(rng, torch.Generator):
        return int(torch.randint(low, high + 1, (), generator=rng))
    return (rng or random).randint(low, high)


def _choice(rng: Rng | None, population: Sequence[int], k: int) -> list[int]:
    """k distinct elements of `population` (k <= len), in random order."""
    if isinstance(rng, torch.Generator):
        return [population[i] for i in torch.randperm(len(population), generator=rng)[:k].tolist()]
    return (rng or random).sample(list(population), k)


def clip_span(num_frames: int, stride: int) -> int:
    """Number of video frames a clip covers, first to last inclusive."""
    return (num_frames - 1) * stride + 1


def sample_clip(num_scene_frames: int, num_frames: int = 49, stride: int = 1, rng: Rng | None = None,
                start: int | None = None) -> list[int]:
    """Frame indices start, start + stride, ... (num_frames of them), start uniform over the valid range
    unless given. Raises `TooFewFramesError` when the video is too short."""
    if num_frames < 1 or stride < 1:
        raise ValueError(f"num_frames and stride must be >= 1, got {num_frames}, {stride}")
    last_start = num_scene_frames - clip_span(num_frames, stride)
    if last_start < 0:
        raise TooFewFramesError(f"a clip of {num_frames} frames at stride {stride} needs "
                                f"{clip_span(num_frames, stride)} frames, the video has {num_scene_frames}")
    if start is None:
        start = _randint(rng, 0, last_start)
    elif not 0 <= start <= last_start:
        raise ValueError(f"start {start} outside [0, {last_start}] for this video")
    return list(range(start, start + clip_span(num_frames, stride), stride))


def sample_supervision_views(num_scene_frames: int, clip: Sequence[int], num_seen: int = 24, num_unseen: int = 24,
                             rng: Rng | None = None) -> tuple[list[int], list[int]]:
    """(seen, unseen) frame indices, each sorted, disjoint from each other, always of the requested sizes.

    seen: distinct frames of the clip. unseen, in order of preference (the batch needs a fixed V):
      1. distinct frames outside the clip's span [clip[0], clip[-1]];
      2. topped up with frames inside the span that are not clip frames (the stride gaps);
      3. if the video still has too few non-clip frames, those frames are repeated;
      4. if it has none (a clip of the whole video at stride 1), clip frames not chosen as seen.
    """
    clip_set = set(clip)
    if num_seen > len(clip_set):
        raise ValueError(f"cannot pick {num_seen} seen views from a clip of {len(clip_set)} frames")
    seen = sorted(_choice(rng, sorted(clip_set), num_seen))
    outside = [i for i in range(num_scene_frames) if i < min(clip_set) or i > max(clip_set)]
    gaps = [i for i in range(min(clip_set), max(clip_set)) if i not in clip_set]
    unseen = _choice(rng, outside, min(num_unseen, len(outside)))
    unseen += _choice(rng, gaps, min(num_unseen - len(unseen), len(gaps)))
    pool = unseen or sorted(clip_set - set(seen))
    if not pool and num_unseen:
        raise ValueError("no frame is left for unseen views: the clip is the whole video and all of it is seen")
    while len(unseen) < num_unseen:
        unseen += _choice(rng, pool, min(num_unseen - len(unseen), len(pool)))
    return seen, sorted(unseen)
