"""`wonderland-eval` end to end with the tiny model family on a small synthetic "RE10K" dataset:
every output is written, a rerun resumes without recomputing, shards cover the index exactly once,
and metrics without weights are reported unavailable."""

import json

import pytest
import torch
from hydra import compose, initialize_config_dir

import wonderland.pipeline.evaluation as evaluation
from lalrm.inference import evaluate_views
from wonderland.cli.evaluate import CONFIG_DIR, evaluate
from wonderland.data import open_scenes
from wonderland.data.synth import write_synthetic_dataset
from wonderland.eval import read_results
from wonderland.pipeline import WonderlandPipeline
from wonderland.vae import encode_video

from .conftest import H, W

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("re10k")
    write_synthetic_dataset(root, 3, num_frames=56, height=H, width=W, workers=1)  # 49-frame clips + 7 unseen
    return root


def config(family, dataset, out, *overrides):
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("config", overrides=[f"model_dir={family}", f"dataset.root={dataset}", f"output_dir={out}",
                                            "dataset.strides=[1]", "device=cpu", *overrides])


class Counting:
    """Wraps `eval_clip`, records the clip ids it ran, and can fail on a chosen call (a crash mid-run)."""

    def __init__(self, fn, fail_on: int | None = None):
        self.fn, self.fail_on, self.ids = fn, fail_on, []

    def __call__(self, task, pipe, scene, entry, nets, opt):
        if len(self.ids) + 1 == self.fail_on:
            raise RuntimeError("killed")
        self.ids.append(f"{entry.key}@{entry.start}x{entry.stride}")
        return self.fn(task, pipe, scene, entry, nets, opt)


def index_ids(out):
    return [f"{e['key']}@{e['start']}x{e['stride']}" for e in json.loads((out / "index.json").read_text())["entries"]]


def test_recon_writes_all_outputs_and_resumes_after_a_crash(tiny_family, dataset, tmp_path, monkeypatch):
    out = tmp_path / "recon"
    cfg = config(tiny_family, dataset, out, "task=recon", "num_clips=2", "task.num_seen=3", "task.num_unseen=2")
    crashing = Counting(evaluation.eval_clip, fail_on=2)
    monkeypatch.setattr(evaluation, "eval_clip", crashing)
    with pytest.raises(RuntimeError, match="killed"):
        evaluate(cfg)
    assert [r["clip_id"] for r in read_results(out)] == crashing.ids == index_ids(out)[:1]

    resumed = Counting(crashing.fn)
    monkeypatch.setattr(evaluation, "eval_clip", resumed)
    summary = evaluate(cfg)
    assert resumed.ids == index_ids(out)[1:]  # only the clip the crash left unfinished
    records = read_results(out)
    assert sorted(r["clip_id"] for r in records) == sorted(index_ids(out))
    for r in records:
        m = r["metrics"]
        assert len(r["seen"]) == 3 and len(r["unseen"]) == 2
        assert all(r["start"] <= f < r["start"] + 49 for f in r["seen"])
        assert not any(r["start"] <= f < r["start"] + 49 for f in r["unseen"])
        assert m["psnr"] == pytest.approx(sum(m["per_frame_psnr"]) / 3)
        assert m["lpips"] is None and m["lpips_unseen"] is None
    entry = summary["datasets"]["re10k"]
    assert entry["num_clips"] == 2 and summary["finished_clips"] == summary["index_clips"] == 2
    assert entry["metrics"]["psnr_unseen"]["mean"] == pytest.approx(
        sum(r["metrics"]["psnr_unseen"] for r in records) / 2)
    assert "LPIPS-vgg" in entry["unavailable"]["lpips"] and "lpips_unseen" in entry["unavailable"]
    table = (out / "table.md").read_text()
    assert "| RealEstate10K | Wonderland (paper) | 27.10 | 0.864 | 0.122 |" in table
    assert f"| RealEstate10K | ours (n=2) | {entry['metrics']['psnr']['mean']:.2f} |" in table
    assert "n/a" in table and "PerceptualSimilarity" in table  # where to get the LPIPS weights
    assert (out / "per_frame_psnr.png").read_bytes().startswith(PNG)
    assert json.loads((out / "summary.json").read_text())["datasets"]["re10k"]["num_clips"] == 2

    # Unseen-view PSNR agrees with an independent path: VAE -> LaLRM -> lalrm.inference.evaluate_views.
    r = records[0]
    scene = open_scenes("re10k", dataset)[open_scenes("re10k", dataset).position(r["key"])]
    frames, cams = scene.load_frames(range(r["start"], r["start"] + 49), H, W)
    pipe = WonderlandPipeline.from_pretrained(tiny_family)
    g = pipe.reconstruct(encode_video(pipe.video_pipe.vae, frames[None])[0], cams)
    gt, ucams = scene.load_frames(r["unseen"], H, W)
    assert evaluate_views(g, ucams, gt)["psnr"] == pytest.approx(r["metrics"]["psnr_unseen"], abs=1e-3)

    again = Counting(crashing.fn)
    monkeypatch.setattr(evaluation, "eval_clip", again)
    assert evaluate(cfg)["datasets"] == summary["datasets"] and again.ids == []  # nothing recomputed


def test_3d_renders_the_first_poses_and_writes_all_outputs(tiny_family, dataset, tmp_path):
    out = tmp_path / "3d"
    summary = evaluate(config(tiny_family, dataset, out, "task=3d", "num_clips=1", "task.image_frames=3",
                              "num_inference_steps=1", "seed=1"))
    (record,) = read_results(out)
    assert record["clip_id"] == index_ids(out)[0] and record["num_gaussians"] > 0
    assert len(record["metrics"]["per_frame_psnr"]) == 3 and len(record["metrics"]["per_frame_ssim"]) == 3
    assert 0 < record["metrics"]["psnr"] < 60 and -1 <= record["metrics"]["ssim"] <= 1
    assert summary["datasets"]["re10k"]["metrics"]["psnr"]["mean"] == pytest.approx(record["metrics"]["psnr"])
    assert "| RealEstate10K | Wonderland (paper) | 0.292 | 17.15 | 0.550 |" in (out / "table.md").read_text()
    assert (out / "per_frame_psnr.png").read_bytes().startswith(PNG)
    assert json.loads((out / "index.json").read_text())["seed"] == 1


def fake_video_clip(task, pipe, scene, entry, nets, opt):
    """Scores derived from the clip, with the record layout of the video task (no generation)."""
    eye = torch.eye(4, dtype=torch.float64).repeat(4, 1, 1)
    eye[:, 0, 3] = torch.arange(4.0)
    est = eye.clone()
    est[1] = float("nan")
    metrics = {"psnr": float(entry.start), "ssim": 0.5, "lpips": None, "per_frame_psnr": [float(entry.start)] * 3,
               "rot_err": 0.0, "trans_err": 0.0, "num_unregistered": 1}
    camera = {"registered": [True, False, True, True], "est_c2w": est.tolist(), "gt_c2w": eye.tolist()}
    return evaluation.ClipResult(metrics, {"camera": camera})


def test_shards_cover_the_index_exactly_once(tiny_family, dataset, tmp_path, monkeypatch):
    out = tmp_path / "video"
    calls = Counting(fake_video_clip)
    monkeypatch.setattr(evaluation, "eval_clip", calls)
    evaluate(config(tiny_family, dataset, out, "task=video", "num_clips=3", "shard=0/2"))
    first = list(calls.ids)
    summary = evaluate(config(tiny_family, dataset, out, "task=video", "num_clips=3", "shard=1/2"))
    ids = index_ids(out)
    assert first == ids[0::2] and calls.ids[len(first):] == ids[1::2]
    assert sorted(calls.ids) == sorted(ids) and len(ids) == 3
    assert {p.name for p in out.glob("clips*.jsonl")} == {"clips.shard-0-of-2.jsonl", "clips.shard-1-of-2.jsonl"}
    evaluate(config(tiny_family, dataset, out, "task=video", "num_clips=3"))  # one process: all done already
    assert len(calls.ids) == 3
    table = (out / "table.md").read_text()
    (out / "table.md").unlink()
    evaluate(config(tiny_family, dataset, out, "task=video", "report_only=true", "model_dir=/nonexistent",
                    "dataset.root=/nonexistent"))  # the report from the stored index and logs alone
    assert (out / "table.md").read_text() == table and len(calls.ids) == 3

    entry = summary["datasets"]["re10k"]
    assert entry["num_clips"] == 3 and entry["camera"] == {"unregistered_frames": 3, "clips_with_unregistered": 3}
    for metric, where in (("fid", "inception"), ("fvd", "i3d"), ("lpips", "PerceptualSimilarity")):
        assert where in entry["unavailable"][metric]  # no weights configured: unavailable, with where to get them
    assert "| RealEstate10K | ours (n=3) | n/a | n/a | 0.000 | 0.000 | n/a |" in table
    assert "3 frame(s) unregistered in 3 clip(s)" in table
    plots = sorted((out / "camera_paths").glob("*.png"))
    assert [p.stem for p in plots] == sorted(ids) and plots[0].read_bytes().startswith(PNG)


def test_an_index_of_other_clip_lengths_is_refused_before_loading_models(tiny_family, dataset, tmp_path):
    from wonderland.data import EvalIndex
    from wonderland.data.eval_index import EvalEntry
    from wonderland.errors import InputError

    EvalIndex([EvalEntry("synth_00000", 0, 1, 17)], 0).save(tmp_path / "idx.json")
    with pytest.raises(InputError, match="not 49-frame clips"):
        evaluate(config(tiny_family, dataset, tmp_path / "o", "task=3d", f"index={tmp_path / 'idx.json'}"))
    assert not (tmp_path / "o" / "index.json").exists()  # not fixed as the folder's index: a fixed rerun may go on


def test_fid_and_fvd_pool_the_stored_features_of_every_clip(tiny_family, dataset, tmp_path, monkeypatch):
    """Each clip stores (real, fake) features; the set-level distance pools all clips. With fake = real + c
    in every clip the two pooled sets share their covariance, so the Fréchet distance is exactly D c^2."""
    import numpy as np

    import wonderland.cli.evaluate as cli
    from wonderland.metrics import MetricNets

    def with_features(task, pipe, scene, entry, nets, opt):
        result = fake_video_clip(task, pipe, scene, entry, nets, opt)
        real = np.random.default_rng(entry.start).normal(size=(6, 5))
        result.features = {"fid_real": real, "fid_fake": real + 0.5, "fvd_real": real[:2], "fvd_fake": real[:2] - 1}
        return result

    monkeypatch.setattr(evaluation, "eval_clip", with_features)
    monkeypatch.setattr(cli, "load_metric_nets", lambda weights, device: MetricNets(unavailable={"lpips": "none"}))
    out = tmp_path / "fid"
    entry = evaluate(config(tiny_family, dataset, out, "task=video", "num_clips=3"))["datasets"]["re10k"]
    assert entry["metrics"]["fid"]["mean"] == pytest.approx(5 * 0.5**2, abs=1e-6)
    assert entry["metrics"]["fvd"]["mean"] == pytest.approx(5 * 1.0, abs=1e-6)
    assert set(entry["unavailable"]) == {"lpips"}
    (out / "features" / f"{index_ids(out)[0]}.npz").unlink()  # a clip without features: no partial FID
    entry = evaluate(config(tiny_family, dataset, out, "task=video", "num_clips=3"))["datasets"]["re10k"]
    assert "features missing for 1 of 3 clips" in entry["unavailable"]["fid"]


@pytest.mark.slow
def test_video_task_generates_and_scores_cameras(tiny_family, dataset, tmp_path):
    out = tmp_path / "video"
    summary = evaluate(config(tiny_family, dataset, out, "task=video", "num_clips=1", "num_inference_steps=1"))
    (record,) = read_results(out)
    m, cam = record["metrics"], record["camera"]
    assert len(m["per_frame_psnr"]) == 14 and len(cam["registered"]) == len(cam["gt_c2w"]) == 16
    assert m["num_unregistered"] == 16 - sum(cam["registered"])  # noise frames of the tiny model: counted
    assert summary["datasets"]["re10k"]["camera"]["unregistered_frames"] == m["num_unregistered"]
    assert (out / "camera_paths" / f"{record['clip_id']}.png").read_bytes().startswith(PNG)
