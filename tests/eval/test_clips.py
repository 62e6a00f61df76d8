"""The run's index: pixelSplat views -> clips, and the index fixed in the output folder."""

import json

import pytest

from wonderland.data import EvalIndex, open_scenes
from wonderland.data.eval_index import EvalEntry, EvalViews
from wonderland.data.synth import write_synthetic_dataset
from wonderland.errors import InputError
from wonderland.eval.clips import clip_id, index_from_pixelsplat, resolve_index


def test_pixelsplat_views_become_clips_spanning_the_context():
    views = {"a": EvalViews([10, 106], [40, 60]), "b": EvalViews([5, 29], [7]), "gone": None,
             "absent": EvalViews([0, 9], [3]), "short": EvalViews([0, 9], [3]), "end": EvalViews([120, 199], [150])}
    lengths = {"a": 300, "b": 40, "short": 8, "end": 200}
    index = index_from_pixelsplat(views, lengths, num_frames=9)
    by_key = {e.key: e for e in index.entries}
    assert set(by_key) == {"a", "b", "end"}  # null, absent and too-short scenes are left out
    assert by_key["a"] == EvalEntry("a", 10, 12, 9)  # 10 + 8 * 12 = 106: the clip ends at the last context view
    assert by_key["b"] == EvalEntry("b", 5, 3, 9)  # span 24 / 8 = 3
    # span 79 / 8 -> stride 10 covers 81 frames: from 120 it would end past frame 199, so it is moved back
    assert by_key["end"] == EvalEntry("end", 119, 10, 9)
    picked = index_from_pixelsplat(views, lengths, num_frames=9, count=2, seed=3)
    assert len(picked.entries) == 2 and set(picked.entries) <= set(index.entries)
    assert picked.entries == index_from_pixelsplat(views, lengths, num_frames=9, count=2, seed=3).entries


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("re10k")
    write_synthetic_dataset(root, 3, num_frames=20, height=16, width=24, workers=1)
    return open_scenes("re10k", root)


def test_index_is_built_once_and_fixed_in_the_output_folder(scenes, tmp_path):
    first = resolve_index(tmp_path, scenes, num_frames=5, count=2, strides=[2, 3], seed=1)
    assert len(first.entries) == 2 and len({e.key for e in first.entries}) == 2
    assert all(e.start + 4 * e.stride < 20 and e.stride in (2, 3) for e in first.entries)
    assert EvalIndex.load(tmp_path / "index.json").entries == first.entries
    # a rerun with another seed keeps the stored index: results in the folder stay comparable
    assert resolve_index(tmp_path, scenes, 5, 2, [2, 3], seed=99).entries == first.entries
    other = tmp_path / "other.json"
    EvalIndex([EvalEntry(scenes.keys[0], 0, 1, 5)], 0).save(other)
    with pytest.raises(InputError, match="another index"):
        resolve_index(tmp_path, scenes, 5, 2, [2, 3], 1, given=other)


def test_a_given_pixelsplat_index_is_read_unchanged(scenes, tmp_path):
    given = tmp_path / "evaluation_index_re10k.json"
    given.write_text(json.dumps({scenes.keys[1]: {"context": [2, 10], "target": [5]}, "missing": None}))
    index = resolve_index(tmp_path / "out", scenes, num_frames=5, count=None, strides=[1], seed=0, given=given)
    assert index.entries == [EvalEntry(scenes.keys[1], 2, 2, 5)]
    assert clip_id(index.entries[0]) == f"{scenes.keys[1]}@2x2"
    assert index.metadata["source"] == f"pixelsplat:{given}"
