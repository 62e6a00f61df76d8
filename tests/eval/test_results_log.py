"""Per-clip JSONL log: reruns skip finished clips, shards split an index, crashes cost one line at most."""

import json
import math

import pytest

from wonderland.errors import InputError
from wonderland.eval import ResultsLog, parse_shard, read_results, shard_items


def run(out_dir, clip_ids, shard=(0, 1), fail_at=None):
    """A minimal runner loop as wonderland-eval uses it; returns the clips it actually computed."""
    log = ResultsLog(out_dir, shard)
    computed = []
    for clip in log.pending(shard_items(clip_ids, *shard)):
        if clip == fail_at:
            raise RuntimeError("interrupted")
        computed.append(clip)
        log.append({"clip_id": clip, "dataset": "re10k", "metrics": {"psnr": float(len(clip))}})
    return computed


def test_rerun_resumes_without_recomputing(tmp_path):
    clips = [f"scene_{i}" for i in range(6)]
    with pytest.raises(RuntimeError):
        run(tmp_path, clips, fail_at="scene_3")
    assert [r["clip_id"] for r in read_results(tmp_path)] == clips[:3]
    assert run(tmp_path, clips) == clips[3:]  # only the unfinished ones
    assert run(tmp_path, clips) == []
    assert [r["clip_id"] for r in read_results(tmp_path)] == clips


def test_shards_are_disjoint_cover_and_see_each_others_results(tmp_path):
    clips = [f"c{i}" for i in range(10)]
    parts = [shard_items(clips, i, 3) for i in range(3)]
    assert sorted(sum(parts, [])) == sorted(clips) and sum(map(len, parts)) == 10
    assert parts[0] == ["c0", "c3", "c6", "c9"]
    for i in range(3):
        assert run(tmp_path, clips, (i, 3)) == parts[i]
    assert len(list(tmp_path.glob("clips.shard-*-of-3.jsonl"))) == 3  # one file per process
    # A rerun with another shard count finds everything done.
    assert run(tmp_path, clips, (1, 2)) == [] and run(tmp_path, clips) == []
    assert {r["clip_id"] for r in read_results(tmp_path)} == set(clips)


def test_partial_last_line_is_ignored_and_cut(tmp_path):
    clips = ["a", "b", "c"]
    run(tmp_path, clips[:2])
    path = tmp_path / "clips.jsonl"
    with open(path, "a") as f:
        f.write('{"clip_id": "c", "metr')  # killed mid-write
    assert [r["clip_id"] for r in read_results(tmp_path)] == ["a", "b"]
    assert run(tmp_path, clips) == ["c"]
    assert [json.loads(line)["clip_id"] for line in path.read_text().splitlines()] == clips


def test_damaged_line_in_the_middle_is_an_error(tmp_path):
    (tmp_path / "clips.jsonl").write_text('{"clip_id": "a"}\nnot json\n{"clip_id": "b"}\n')
    with pytest.raises(InputError, match="line 2"):
        ResultsLog(tmp_path)


def test_non_finite_values_become_null(tmp_path):
    log = ResultsLog(tmp_path)
    log.append({"clip_id": "x", "metrics": {"per_frame_rot_err": [0.0, math.nan], "rot_err": math.inf}})
    record = json.loads((tmp_path / "clips.jsonl").read_text())  # strict JSON parses
    assert record["metrics"] == {"per_frame_rot_err": [0.0, None], "rot_err": None}
    with pytest.raises(ValueError, match="clip_id"):
        log.append({"metrics": {}})


@pytest.mark.parametrize("text", ["4/4", "-1/2", "1/0", "a/b", "3"])
def test_bad_shard_specs(text):
    with pytest.raises(InputError, match="shard"):
        parse_shard(text)


def test_shard_spec():
    assert parse_shard("0/4") == (0, 4) and parse_shard("3/4") == (3, 4)
