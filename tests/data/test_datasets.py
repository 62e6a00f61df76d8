"""torch Datasets: normalised clips, supervision views in the clip's frame, skipping of every kind of
broken scene (counted once per skip, across worker processes), and a 2-worker DataLoader."""

import logging
import shutil

import pytest
import torch
from torch.utils.data import DataLoader

from wonderland.data import SKIP_REASONS, ReconstructionDataset, SkipCounter, VideoClipDataset, open_scenes
from wonderland.geometry import rigid_inverse


def test_clip_item_is_normalised_and_matches_the_scene(synth_re10k):
    scenes = open_scenes("re10k", synth_re10k)
    ds = VideoClipDataset(scenes, num_frames=8, height=16, width=16, strides=(1, 2), seed=0)
    item = ds[1]
    assert item["frames"].shape == (8, 3, 16, 16) and item["c2w"].shape == (8, 4, 4) and item["K"].shape == (8, 3, 3)
    scene = scenes[scenes.position(item["key"])]
    idx = item["indices"].tolist()
    assert idx == list(range(idx[0], idx[0] + 8 * item["stride"], item["stride"]))
    torch.testing.assert_close(item["frames"], scene.load_frames(idx, 16, 16)[0])
    torch.testing.assert_close(item["K"], scene.cameras[torch.tensor(idx)].center_crop_resize(16, 16).K.float())
    torch.testing.assert_close(item["c2w"][0], torch.eye(4), atol=1e-6, rtol=0)
    assert item["c2w"][:, :3, 3].norm(dim=-1).max().item() == pytest.approx(1.0, abs=1e-5)
    # Relative motion between any two frames is the scene's, with translations divided by `scale`.
    raw = scene.cameras.c2w[idx]
    rel_raw = rigid_inverse(raw[2]) @ raw[7]
    rel = rigid_inverse(item["c2w"][2].double()) @ item["c2w"][7].double()
    torch.testing.assert_close(rel[:3, :3], rel_raw[:3, :3], atol=1e-5, rtol=0)
    torch.testing.assert_close(rel[:3, 3] * item["scale"].double(), rel_raw[:3, 3], atol=1e-5, rtol=0)
    # Deterministic per (seed, epoch, index); the epoch reshuffles.
    assert ds[1]["indices"].tolist() == idx
    draws = set()
    for epoch in range(6):
        ds.set_epoch(epoch)
        draws.add((ds[1]["stride"], ds[1]["indices"][0].item()))
    assert len(draws) > 1


@pytest.mark.parametrize("sup_size", [None, 8])
def test_supervision_views_share_the_clip_frame(synth_re10k, sup_size):
    scenes = open_scenes("re10k", synth_re10k)
    ds = ReconstructionDataset(scenes, num_frames=8, height=16, width=16, strides=(1,), num_seen=4, num_unseen=5,
                               sup_height=sup_size, sup_width=sup_size, seed=1)
    item = ds[2]
    clip, views = item["indices"].tolist(), item["sup_indices"].tolist()
    seen, unseen = views[:4], views[4:]
    assert item["sup_is_seen"].tolist() == [True] * 4 + [False] * 5
    assert set(seen) <= set(clip) and not set(unseen) & set(clip) and len(set(unseen)) == 5
    pos = [clip.index(v) for v in seen]
    torch.testing.assert_close(item["sup_c2w"][:4], item["c2w"][pos], atol=1e-6, rtol=0)
    s = (sup_size or 16) / 16
    torch.testing.assert_close(item["sup_K"][:4, :2], item["K"][pos, :2] * s)
    if sup_size is None:
        torch.testing.assert_close(item["sup_frames"][:4], item["frames"][pos])
    scene = scenes[scenes.position(item["key"])]
    sup = scene.load_frames(unseen, sup_size or 16, sup_size or 16)[0]
    torch.testing.assert_close(item["sup_frames"][4:], sup)


def _break_scenes(root):
    """Copies of a good scene, each broken in one way: key -> the skip reason it must produce."""
    good = "synth_00000"
    lines = (root / f"{good}.txt").read_text().splitlines()
    stamps = [ln.split()[0] for ln in lines[1:]]

    def copy(key, text_lines):
        shutil.copytree(root / good, root / key)
        (root / f"{key}.txt").write_text("\n".join(text_lines) + "\n")

    copy("bad_missing", lines)
    (root / "bad_missing" / f"{stamps[5]}.png").unlink()
    copy("bad_corrupt", lines)
    png = root / "bad_corrupt" / f"{stamps[5]}.png"
    png.write_bytes(png.read_bytes()[:200])  # truncated mid-stream
    nan = lines[3].split()
    nan[10] = "nan"
    copy("bad_nan", lines[:3] + [" ".join(nan)] + lines[4:])
    skew = lines[3].split()
    skew[7:11] = [str(2 * float(x)) for x in skew[7:11]]  # first rotation row doubled
    copy("bad_notrot", lines[:3] + [" ".join(skew)] + lines[4:])
    copy("bad_short", lines[:6])
    copy("bad_garbage", lines[:2] + ["hello world"] + lines[3:])
    return {"bad_missing": "missing_frame", "bad_corrupt": "corrupt_frame", "bad_nan": "bad_pose",
            "bad_notrot": "bad_pose", "bad_short": "too_few_frames", "bad_garbage": "unreadable"}


def test_every_corruption_is_skipped_and_counted(synth_re10k, tmp_path, caplog):
    root = tmp_path / "ds"
    shutil.copytree(synth_re10k, root)
    broken = _break_scenes(root)
    scenes = open_scenes("re10k", root)
    assert len(scenes) == 4 + len(broken)
    ds = VideoClipDataset(scenes, num_frames=20, height=16, width=16, strides=(1,), seed=0)  # every frame
    counter = SkipCounter()
    with caplog.at_level(logging.WARNING, logger="wonderland.data"):
        for i in range(len(ds)):
            item = ds[i]
            assert not item["key"].startswith("bad_")
            counter.update(item["skipped"])
    for key, reason in broken.items():  # each broken scene's own index is skipped at least once, for its reason
        assert counter.counts[reason] >= list(broken.values()).count(reason)
        assert any(key in r.getMessage() and reason in r.getMessage() for r in caplog.records)
    assert counter.counts == ds.skipped  # the per-item counts and the dataset's own agree
    assert counter.total == len([r for r in caplog.records if r.levelno == logging.WARNING])  # one line each
    assert counter.summary().startswith(f"skipped {counter.total} samples (missing_frame")
    too_long = VideoClipDataset(open_scenes("re10k", synth_re10k), num_frames=20, height=16, width=16, strides=(3,),
                                max_attempts=5)
    with pytest.raises(RuntimeError, match="5 scenes in a row.*too_few_frames"):
        too_long[0]


def test_dataloader_with_two_workers(synth_re10k, tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(synth_re10k, root)
    shutil.copytree(root / "synth_00001", root / "bad_frames")
    shutil.copy(root / "synth_00001.txt", root / "bad_frames.txt")
    for f in (root / "bad_frames").iterdir():
        f.write_bytes(b"")
    scenes = open_scenes("re10k", root)
    ds = ReconstructionDataset(scenes, num_frames=8, height=16, width=16, strides=(1, 2), num_seen=4, num_unseen=4,
                               seed=3)
    loader = DataLoader(ds, batch_size=2, num_workers=2, shuffle=False)
    counter, keys = SkipCounter(), []
    for batch in loader:
        b = len(batch["key"])  # 5 items: batches of 2, 2, 1
        assert batch["frames"].shape == (b, 8, 3, 16, 16) and batch["sup_frames"].shape == (b, 8, 3, 16, 16)
        assert batch["skipped"].shape == (b, len(SKIP_REASONS))
        counter.update(batch["skipped"])
        keys += batch["key"]
    assert len(keys) == 5 and "bad_frames" not in keys
    assert counter.counts["corrupt_frame"] >= 1
    assert ds.skipped == {}  # the main process made no items: the counts reached it only through the batches
    in_process = [ds[i] for i in range(len(ds))]
    assert keys == [it["key"] for it in in_process]  # workers draw exactly what the main process would
    assert counter.counts == ds.skipped
    torch.testing.assert_close(batch["sup_c2w"][-1], in_process[-1]["sup_c2w"])
    torch.testing.assert_close(batch["frames"][-1], in_process[-1]["frames"])
