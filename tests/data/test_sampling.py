"""Clip and supervision-view samplers, the seeded evaluation index, and the pixelSplat index reader."""

import json
import random

import pytest
import torch

from wonderland.data.sampling import (
    EvalEntry,
    EvalIndex,
    TooFewFramesError,
    read_pixelsplat_index,
    sample_clip,
    sample_supervision_views,
)
from wonderland.errors import InputError


@pytest.mark.parametrize("stride", [1, 3, 5])
def test_clip_stride_and_bounds(stride):
    rng = random.Random(0)
    starts = set()
    for _ in range(400):
        clip = sample_clip(160, 25, stride, rng)
        assert len(clip) == 25 and all(b - a == stride for a, b in zip(clip, clip[1:]))
        assert clip[0] >= 0 and clip[-1] <= 159
        starts.add(clip[0])
    last = 160 - (24 * stride + 1)
    assert min(starts) == 0 and max(starts) == last  # every valid start is reachable, none beyond
    assert sample_clip(24 * stride + 1, 25, stride, rng) == list(range(0, 24 * stride + 1, stride))
    with pytest.raises(TooFewFramesError):
        sample_clip(24 * stride, 25, stride, rng)


def test_clip_start_and_generators():
    assert sample_clip(100, 49, 2, start=2) == list(range(2, 99, 2))
    with pytest.raises(ValueError, match="outside"):
        sample_clip(100, 49, 2, start=4)  # the last valid start is 100 - 97 = 3
    a = sample_clip(500, 49, 3, torch.Generator().manual_seed(5))
    assert a == sample_clip(500, 49, 3, torch.Generator().manual_seed(5))
    assert a != sample_clip(500, 49, 3, torch.Generator().manual_seed(6))


def test_seen_unseen_disjoint_and_outside_the_clip():
    rng = random.Random(1)
    for _ in range(50):
        clip = sample_clip(300, 49, 3, rng)
        seen, unseen = sample_supervision_views(300, clip, 24, 24, rng)
        assert len(seen) == len(set(seen)) == 24 and set(seen) <= set(clip)
        assert len(unseen) == len(set(unseen)) == 24 and not set(unseen) & set(clip)
        assert all(u < clip[0] or u > clip[-1] for u in unseen)  # enough frames outside the span


def test_unseen_fallbacks_for_short_videos():
    rng = random.Random(2)
    clip = list(range(10, 59))  # stride 1, 49 frames of a 64-frame video: 15 frames outside
    seen, unseen = sample_supervision_views(64, clip, 24, 24, rng)
    assert len(unseen) == 24 and set(unseen) == set(range(10)) | set(range(59, 64))  # all of them, some twice
    clip = list(range(0, 40, 2))  # the stride gaps top up the outside frames
    seen, unseen = sample_supervision_views(45, clip, 8, 10, rng)
    assert set(range(40, 45)) <= set(unseen) and not set(unseen) & set(clip) and len(set(unseen)) == 10
    clip = list(range(20))  # the whole video: unseen come from clip frames not chosen as seen
    seen, unseen = sample_supervision_views(20, clip, 12, 8, rng)
    assert not set(seen) & set(unseen) and len(set(unseen)) == 8
    with pytest.raises(ValueError):
        sample_supervision_views(20, clip, 20, 1, rng)


def test_eval_index_round_trip_and_seeding(tmp_path):
    lengths = {f"scene{i:02d}": 60 + 10 * i for i in range(20)} | {"short": 24}  # too short for 25 frames
    index = EvalIndex.build(lengths, 10, num_frames=25, strides=(1, 2), seed=3)
    assert len(index.entries) == 10 and len({e.key for e in index.entries}) == 10
    for e in index.entries:
        assert e.key != "short" and e.indices[-1] < lengths[e.key] and len(e.indices) == 25
    assert EvalIndex.build(lengths, 10, 25, (1, 2), seed=3).entries == index.entries
    assert EvalIndex.build(lengths, 10, 25, (1, 2), seed=4).entries != index.entries
    index.save(tmp_path / "index.json")
    back = EvalIndex.load(tmp_path / "index.json")
    assert back.entries == index.entries and back.seed == 3
    assert EvalEntry("k", 4, 3, 3).indices == [4, 7, 10]
    bad = {"format": "wonderland-eval-index", "version": 1,
           "entries": [{"key": "a", "start": -1, "stride": 1, "num_frames": 2}]}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(InputError, match="entries\\[0\\]"):
        EvalIndex.load(tmp_path / "bad.json")


def test_eval_index_from_a_collection(synth_re10k):
    from wonderland.data import open_scenes

    scenes = open_scenes("re10k", synth_re10k)
    index = EvalIndex.from_scenes(scenes, 3, num_frames=10, strides=(2,), seed=0)
    assert len(index.entries) == 3 and all(e.stride == 2 and e.indices[-1] < 20 for e in index.entries)
    assert index.entries == EvalIndex.build({k: 20 for k in scenes.keys}, 3, 10, (2,), seed=0).entries


def test_pixelsplat_index_read_unchanged(tmp_path):
    raw = {"5aca87f95a9412c6": {"context": [58, 133], "target": [111, 60, 92]}, "0a3b5fb184936a83": None}
    (tmp_path / "evaluation_index_re10k.json").write_text(json.dumps(raw))
    index = read_pixelsplat_index(tmp_path / "evaluation_index_re10k.json")
    assert list(index) == list(raw)
    assert index["5aca87f95a9412c6"].context == [58, 133] and index["5aca87f95a9412c6"].target == [111, 60, 92]
    assert index["0a3b5fb184936a83"] is None
    (tmp_path / "bad.json").write_text(json.dumps({"k": {"context": [1]}}))
    with pytest.raises(InputError, match="'k'"):
        read_pixelsplat_index(tmp_path / "bad.json")
