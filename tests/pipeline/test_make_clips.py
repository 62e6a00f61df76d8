"""`wonderland-make-clips` with the tiny family: two images x three camera paths (project JSON, a RealEstate10K
.txt, a nerfstudio transforms.json) as two shards, the first killed after its first clip and resumed; the
clips read back, reproduce from their provenance, and feed `lalrm.train stage=highres` beside captured data."""

import itertools
import json
import math
import shutil
from unittest import mock

import numpy as np
import pytest
import torch
from PIL import Image

from wonderland.cli.generate import default_model_dir
from wonderland.cli.make_clips import main as make_clips
from wonderland.data.generated_clips import list_clips, read_clip
from wonderland.data.synth import make_synthetic_scene, scene_seed
from wonderland.images import load_image
from wonderland.metrics import psnr
from wonderland.pipeline.make_clips import plan_jobs
from wonderland.testing import CONFIGS, TINY_SIZE, Killed, compose, write_synth
from wonderland.trajectories import load_trajectory, make_preset, save_re10k_txt, save_trajectory, save_transforms_json

from .conftest import H, W

PATHS = ["orbit.json", "pan/transforms.json", "walk.txt"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("clip_inputs")
    rng = np.random.default_rng(0)
    (d / "images").mkdir()
    Image.fromarray(rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)).save(d / "images" / "a.png")  # 16:9
    Image.fromarray(rng.integers(0, 255, (48, 72, 3), dtype=np.uint8)).save(d / "images" / "b.jpg")
    save_trajectory(d / "paths" / "orbit.json", make_preset("orbit", 49, 480, 720, degrees=40, depth=3.0))
    save_transforms_json(d / "paths" / "pan" / "transforms.json", make_preset("pan_left", 49, 480, 720))
    save_re10k_txt(d / "paths" / "walk.txt", make_preset("dolly_in", 61, 480, 720), url="https://example.com/w")
    return d


def args(inputs, family, out, *extra) -> list[str]:
    return ["--images", str(inputs / "images"), "--trajectories", str(inputs / "paths"), "--out", str(out),
            "--model", str(family), "--clips-per-image", "3", "--steps", "1", "--quiet", *extra]


def killed_after_first_clip():
    """The writer dies right after publishing its first clip (a BaseException, as nothing survives a SIGKILL)."""
    from wonderland.data import generated_clips

    write, calls = generated_clips.write_clip, []

    def write_then_die(*a, **k):
        path = write(*a, **k)
        calls.append(path)
        raise Killed(f"killed after writing {path.name}")

    return mock.patch.object(generated_clips, "write_clip", write_then_die)


@pytest.fixture(scope="module")
def made(tiny_family, inputs, tmp_path_factory):
    """Shard 0/2 killed after its first clip (and a half-written clip left behind, as a SIGKILL would), shard 0/2
    rerun, then shard 1/2. -> (out, summaries, clip folders after the kill, their clip.json mtimes)."""
    out = tmp_path_factory.mktemp("clips") / "out"
    with killed_after_first_clip(), pytest.raises(Killed):
        make_clips(args(inputs, tiny_family, out, "--shard", "0/2"))
    killed = json.loads((out / "summary.shard-0-of-2.json").read_text())
    after_kill = list_clips(out)
    mtimes = {p.name: (p / "clip.json").stat().st_mtime_ns for p in after_kill}
    half = out / ".tmp-a.png-002"  # shard 0's next clip (plan: a-000 a-001 a-002 b-000 b-001 b-002; shard 0: every 2nd)
    (half / "frames").mkdir(parents=True)
    (half / "latents.safetensors").write_bytes(b"half")
    codes = [make_clips(args(inputs, tiny_family, out, "--shard", "0/2"))]
    resumed = json.loads((out / "summary.shard-0-of-2.json").read_text())
    codes.append(make_clips(args(inputs, tiny_family, out, "--shard", "1/2")))
    other = json.loads((out / "summary.shard-1-of-2.json").read_text())
    return out, codes, {"killed": killed, "resumed": resumed, "other": other}, after_kill, mtimes


def test_shards_together_write_each_pair_exactly_once(made, inputs):
    out, codes, summaries, _, _ = made
    assert codes == [0, 0]
    clips = [read_clip(p, frames=False).header.provenance for p in list_clips(out)]
    pairs = sorted((c["image"]["path"].split("/")[-1], c["trajectory"]["key"]) for c in clips)
    assert pairs == sorted(itertools.product(["a.png", "b.jpg"], PATHS))  # 3 clips per image = every path once
    jobs = plan_jobs(sorted((inputs / "images").iterdir()), 3, 3, seed=0)
    assert [c["clip_id"] for c in clips] == sorted(j.clip_id for j in jobs)
    # the killed run's one clip (killed before it could count it) + the rerun's two + shard 1's three
    assert summaries["resumed"]["written"] + summaries["other"]["written"] == 5
    assert summaries["other"]["planned"] == summaries["resumed"]["planned"] == 3
    assert not summaries["other"]["already_done"]  # shard 1 made its own three: no clip was shared


def test_a_killed_run_resumes_and_writes_only_the_rest(made):
    out, _, summaries, after_kill, mtimes = made
    assert [p.name for p in after_kill] == ["a.png-000"] and summaries["killed"]["interrupted"]
    r = summaries["resumed"]
    assert (r["written"], r["already_done"], r["skipped"], r["failed"], r["interrupted"]) == (2, 1, 0, 0, False)
    assert (out / "a.png-000" / "clip.json").stat().st_mtime_ns == mtimes["a.png-000"]  # not rewritten
    assert not (out / ".tmp-a.png-002").exists()  # the half-written clip was redone
    assert read_clip(out / "a.png-002").frames.shape == (49, 3, H, W)


def test_clips_hold_the_cameras_they_follow_and_reproduce_from_their_provenance(made, inputs, tiny_family):
    """Every clip's cameras are its path's window (at the model size, in the path's units); one clip generated
    again from nothing but its provenance gives the same latents (shards and reruns cannot change a clip)."""
    from wonderland.pipeline import WonderlandPipeline

    out = made[0]
    for folder in list_clips(out):
        clip = read_clip(folder, frames=False)
        t = clip.header.provenance["trajectory"]
        path = load_trajectory(inputs / "paths" / t["key"])
        assert t["frame_indices"] == list(range(t["frame_indices"][0], t["frame_indices"][0] + 49))  # stride 1
        assert t["num_source_frames"] == (61 if t["key"] == "walk.txt" else 49)
        window = path[t["frame_indices"]].center_crop_resize(H, W)
        assert torch.allclose(clip.cameras.c2w, window.c2w, atol=1e-6)
        assert torch.allclose(clip.cameras.K, window.K, atol=1e-4)
    clip = read_clip(next(p for p in list_clips(out) if read_clip(p, False).header.provenance["trajectory"]["key"]
                          == "walk.txt"))
    p = clip.header.provenance
    pipe = WonderlandPipeline.from_pretrained(tiny_family)
    pipe.set_progress_bar(False)
    video = pipe.generate_video(load_image(p["image"]["path"]), load_trajectory(inputs / "paths" / "walk.txt")[
        p["trajectory"]["frame_indices"]], p["prompt"], p["seed"], p["steps"], p["guidance"])
    assert torch.allclose(video.latents, clip.latents, atol=1e-5)
    assert torch.allclose(video.frames, clip.frames, atol=0.5 / 255 + 1e-6)  # frames: 8-bit
    assert p["image"]["sha256"] and p["family"]["name"] == "tiny-test" and p["family"]["fingerprint"]


def test_lalrm_highres_trains_on_captured_and_generated_clips(made, tmp_path):
    """The issue's bar: `lalrm.train stage=highres` with the clips mixed at ratio 0.5 into a captured synthetic
    set trains 2 steps (batch 2), and its stream draws from both sources."""
    from lalrm.config import build_config
    from lalrm.data import GeneratedClips, build_stream
    from lalrm.train import train

    synth = write_synth(tmp_path / "synth", 2)
    cfg = compose(CONFIGS / "lalrm", [
        "stage=highres", "model=tiny", "data=synthetic", "trainer=smoke", f"data.sources.synthetic.root={synth}",
        "data.sources.synthetic.strides=[1]", "num_frames=49", "stage.init_from=null", "trainer.batch_size=2",
        f"data.generated.root={made[0]}", "data.generated.ratio=0.5", f"trainer.output_dir={tmp_path / 'run'}"])
    stream = build_stream(build_config(cfg))
    assert isinstance(stream.sources[1][0], GeneratedClips) and len(stream.sources[1][0]) == 6
    assert [w for _, w in stream.sources] == [0.5, 0.5]
    assert {stream.locate(i)[0] for i in range(4)} == {0, 1}  # the 2 steps x 2 samples draw both sources
    result = train(cfg)
    assert result.step == 2 and len(result.losses) == 2 and all(math.isfinite(x) for x in result.losses)


def test_bad_inputs_are_skipped_and_counted(tiny_family, tmp_path):
    """An unreadable image, an unreadable path and paths too short for 49 frames at the stride: every clip is
    skipped under its reason, none generated, exit status 0."""
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "broken.png").write_text("not a png")
    Image.fromarray(np.zeros((32, 48, 3), np.uint8)).save(tmp_path / "images" / "ok.png")
    save_trajectory(tmp_path / "paths" / "short.json", make_preset("orbit", 20))
    save_re10k_txt(tmp_path / "paths" / "long.txt", make_preset("dolly_in", 100))  # 100 < 145 = 49 at stride 3
    (tmp_path / "paths" / "broken.json").write_text("{")
    code = make_clips(["--images", str(tmp_path / "images"), "--trajectories", str(tmp_path / "paths"), "--out",
                       str(tmp_path / "out"), "--model", str(tiny_family), "--clips-per-image", "3",
                       "--strides", "3,4,5", "--quiet"])
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert code == 0 and (summary["written"], summary["skipped"], summary["failed"]) == (0, 6, 0)
    assert summary["reasons"] == {"unreadable_image": 3, "unreadable_trajectory": 1, "trajectory_too_short": 2}
    short = {p["trajectory"]: p["detail"] for p in summary["problems"] if p["reason"] == "trajectory_too_short"}
    assert short == {"short.json": "20 frames cannot hold 49 at stride 3 or 4 or 5",
                     "long.txt": "100 frames cannot hold 49 at stride 3 or 4 or 5"}
    assert list_clips(tmp_path / "out") == []


@pytest.mark.parametrize("change,problem", [
    (["--out", "{file}"], "--out {file}: expected a folder (this is a file)"),
    (["--model", "{tmp}"], "{tmp}: not a Wonderland model directory (no wonderland.json)"),
    (["--images", "{tmp}/nowhere"], "--images {tmp}/nowhere: expected a folder with image files"),
    (["--trajectories", "{tmp}"], "--trajectories {tmp}: expected trajectory files"),
    (["--dataset-kind", "re10k", "--trajectories", "{tmp}"], "{tmp}: no readable re10k scenes found"),
    (["--shard", "2/2"], "--shard 2/2: expected 'i/n' with 0 <= i < n"),
    (["--strides", "3,0"], "--strides 3,0: expected comma-separated integers >= 1"),
    (["--dataset-kind", "kitti"], "--dataset-kind kitti: expected one of re10k"),
    (["--clips-per-image", "0"], "--clips-per-image 0: expected an integer >= 1"),
])
def test_bad_options_are_one_line_and_exit_2_before_any_model_loads(change, problem, inputs, tiny_family, tmp_path,
                                                                     capsys):
    (tmp_path / "file").write_text("")
    fill = {"file": tmp_path / "file", "tmp": tmp_path}
    argv = args(inputs, tiny_family, tmp_path / "out") + [c.format(**fill) for c in change]
    with mock.patch("wonderland.pipeline.WonderlandPipeline.from_pretrained", side_effect=AssertionError("loaded")), \
            pytest.raises(SystemExit) as e:
        make_clips(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and err.startswith("wonderland-make-clips: error: ")
    assert problem.format(**fill) in err
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_rerun_with_other_settings_is_refused(made, inputs, tiny_family, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(made[0], out)
    with pytest.raises(SystemExit) as e:
        make_clips(args(inputs, tiny_family, out, "--seed", "1"))
    err = capsys.readouterr().err
    assert e.value.code == 2 and f"{out / 'make_clips.json'}: field 'seed': this folder's clips were made with 0, " \
        "this run would use 1: write to another --out" in err


def test_a_dataset_root_gives_camera_paths_at_the_dataset_strides(tiny_family, tmp_path):
    """`--dataset-kind re10k`: the scenes' cameras through `wonderland.data`, windows at RE10K's strides {3, 4, 5}
    by default (49-frame videos cannot hold one: skipped), or at `--strides`."""
    import random

    from wonderland.data import open_scenes
    from wonderland.pipeline.make_clips import choose_window, prepare
    from wonderland.pipeline.manifest import read_manifest

    synth = write_synth(tmp_path / "synth", 2)
    (tmp_path / "images").mkdir()
    Image.fromarray(np.zeros((32, 48, 3), np.uint8)).save(tmp_path / "images" / "x.png")
    base = ["--images", str(tmp_path / "images"), "--trajectories", str(synth), "--dataset-kind", "re10k",
            "--model", str(tiny_family), "--clips-per-image", "2", "--quiet"]
    assert make_clips(base + ["--out", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["reasons"] == {"trajectory_too_short": 2}
    assert {p["detail"] for p in summary["problems"]} == {"49 frames cannot hold 49 at stride 3 or 4 or 5"}
    plan = prepare(tmp_path / "images", synth, tmp_path / "out1", read_manifest(tiny_family), "re10k", (1,), 2)
    scenes = open_scenes("re10k", synth)
    assert plan.paths.keys == scenes.keys and len(plan.jobs) == 2
    assert torch.equal(plan.paths.load(1).c2w, scenes[1].cameras.c2w)
    assert choose_window(49, 49, (1,), random.Random(0)) == (list(range(49)), 1)
    indices, stride = choose_window(200, 49, (3, 4, 5), random.Random(0))
    assert stride in (3, 4, 5) and indices == list(range(indices[0], indices[0] + 48 * stride + 1, stride))
    assert indices[-1] < 200


# ---- learning: a LaLRM trained on generated clips reconstructs held-out clips' decoded frames ------------------
DEMO = default_model_dir()  # the bundled family (32 x 48, 49 frames, a trained VAE)
EVAL_VIEWS = list(range(0, 49, 6))  # 9 of the 49 frames of each held-out clip, at the supervision size
SUP = (16, 24)
TRAIN_GAIN_DB = 4.0
# As tests/lalrm/test_learning.py's quick bar: head stride 4 (8 x 12 Gaussians per frame), larger and more opaque
# initial Gaussians, MSE only; the captured set is never drawn (ratio 1) but encoded by the same (demo) VAE.
LEARN = ["stage=highres", "model=tiny", "data=synthetic", "trainer=smoke", "data.sources.synthetic.strides=[1]",
         "num_frames=49", "stage.init_from=null", "data.generated.ratio=1.0", f"vae.path={DEMO / 'base' / 'vae'}",
         "vae.tiny=false", "loss.perceptual=0", "stage.num_seen=4", "stage.num_unseen=0", "model.head_stride=4",
         "model.init_scale=0.3", "model.scale_max=1.0", "model.init_opacity=0.5", "optim.lr=3e-3",
         "optim.min_lr=3e-4", "optim.warmup_steps=10", "trainer.batch_size=2", "trainer.max_steps=30",
         "trainer.checkpoint_every=1000000", "trainer.log_every=10", "trainer.resume=null"]


@pytest.fixture(scope="module")
def demo_clips(tmp_path_factory):
    """The bundled family's clips (the default --model): three in-domain images (frame 0 of wonderland-synth
    scenes the family never saw) x their scenes' camera paths, two clips per image. -> the clips folder."""
    root = tmp_path_factory.mktemp("demo_clips")
    (root / "images").mkdir()
    for i in range(3):
        frames, cams = make_synthetic_scene(scene_seed(7, i), 49, *TINY_SIZE)
        Image.fromarray((frames[0].permute(1, 2, 0) * 255).round().byte().numpy()).save(root / "images" / f"{i}.png")
        save_trajectory(root / "paths" / f"{i}.json", cams)
    assert make_clips(["--images", str(root / "images"), "--trajectories", str(root / "paths"), "--out",
                       str(root / "out"), "--clips-per-image", "2", "--quiet"]) == 0
    return root / "out"


def decoded_frame_psnr(model, clips) -> float:
    """Mean PSNR of the model's Gaussians, rendered at each clip's cameras, against its decoded frames."""
    from lalrm.inference import evaluate_views, reconstruct

    scores = []
    for folder in clips:
        clip = read_clip(folder, frames=EVAL_VIEWS)
        gaussians = reconstruct(model.eval(), clip.latents[None], clip.cameras[None])[0]
        target = torch.nn.functional.interpolate(clip.frames, size=SUP, mode="area")
        scores.append(evaluate_views(gaussians, clip.cameras[EVAL_VIEWS].resize(*SUP), target)["psnr"])
    return sum(scores) / len(scores)


@pytest.mark.slow
def test_lalrm_trained_on_generated_clips_reconstructs_their_decoded_frames(demo_clips, tmp_path):
    """`lalrm.train` on the bundled family's clips of images 0 and 1 only (ratio 1, 30 steps) must gain
    TRAIN_GAIN_DB of PSNR against those clips' decoded frames over its initial model. A reader that pairs frames
    with the wrong cameras or latents, or a broken gradient path, cannot.
    Measured (2 threads on a loaded machine, 18 min with the clips): training clips 12.14 -> 20.60 dB. Held-out
    clips (image 2) do NOT improve in this set-up: 19.05 -> 14.15 dB (4 clips, 30 steps overfit from scratch); the
    issue's held-out bar is the next test's (from the bundled LaLRM)."""
    from lalrm import LaLRM
    from lalrm.config import build_config
    from lalrm.train import train

    assert read_clip(list_clips(demo_clips)[0], False).header.provenance["family"]["name"] == "wonderland-demo"
    train_dir = tmp_path / "train"
    for p in list_clips(demo_clips):
        if not p.name.startswith("2.png"):
            shutil.copytree(p, train_dir / p.name)
    cfg = compose(CONFIGS / "lalrm", LEARN + [f"data.sources.synthetic.root={write_synth(tmp_path / 'synth', 1)}",
                                              f"data.generated.root={train_dir}", f"trainer.output_dir={tmp_path}/run"])
    typed = build_config(cfg)
    torch.manual_seed(typed.trainer.seed)  # train() seeds the same way: this is its initial model
    clips = list_clips(train_dir)
    before = decoded_frame_psnr(LaLRM(**typed.model), clips)
    after = decoded_frame_psnr(LaLRM.from_pretrained(train(cfg).model_dir), clips)
    print(f"training clips, decoded-frame PSNR: before {before:.2f}, after {after:.2f}")
    assert len(clips) == 4 and after > before + TRAIN_GAIN_DB


# ---- generalisation: the bundled LaLRM fine-tuned on generated clips, scored on clips of other images AND paths ---
HELD_GAIN_DB = 0.25
# The bundled LaLRM's own recipe (configs/lalrm stage lowres, head stride 16: one Gaussian per pixel), continued on
# the generated clips only (ratio 1) at the demo fine-tune's learning rate, supervised at 4 views of 16 x 24.
FINE_TUNE = ["stage=lowres", f"stage.init_from={DEMO / 'lalrm'}", "model=tiny", "data=synthetic", "trainer=smoke",
             "num_frames=49", "data.sources.synthetic.strides=[1]", "data.generated.ratio=1.0",
             f"vae.path={DEMO / 'base' / 'vae'}", "vae.tiny=false", "loss.perceptual=0", "stage.num_seen=4",
             "stage.num_unseen=0", "optim.lr=2e-4", "optim.min_lr=2e-5", "optim.warmup_steps=6",
             "trainer.batch_size=2", "trainer.max_steps=30", "trainer.checkpoint_every=1000000",
             "trainer.log_every=10", "trainer.resume=null"]


def write_demo_clips(root, image_seed: int, images: int, path_seed: int, paths: int, per_image: int):
    """Frame 0 of `images` wonderland-synth scenes (dataset seed `image_seed`) x the camera paths of `paths` other
    scenes (seed `path_seed`), `per_image` clips each, by the bundled family. -> the clips folder."""
    for i in range(images):
        frames, _ = make_synthetic_scene(scene_seed(image_seed, i), 49, *TINY_SIZE)
        (root / "images").mkdir(parents=True, exist_ok=True)
        Image.fromarray((frames[0].permute(1, 2, 0) * 255).round().byte().numpy()).save(root / "images" / f"{i}.png")
    for i in range(paths):
        save_trajectory(root / "paths" / f"{i}.json", make_synthetic_scene(scene_seed(path_seed, i), 49, *TINY_SIZE)[1])
    assert make_clips(["--images", str(root / "images"), "--trajectories", str(root / "paths"), "--out",
                       str(root / "out"), "--clips-per-image", str(per_image), "--quiet"]) == 0
    return root / "out"


def mean_colour_psnr(clips) -> float:
    """The per-clip oracle constant: each held-out view predicted by its clip's mean colour (a fair floor)."""
    scores = []
    for folder in clips:
        target = torch.nn.functional.interpolate(read_clip(folder, frames=EVAL_VIEWS).frames, size=SUP, mode="area")
        scores.append(psnr(target.mean((0, 2, 3), keepdim=True).expand_as(target), target).mean().item())
    return sum(scores) / len(scores)


@pytest.mark.slow
def test_bundled_lalrm_fine_tuned_on_generated_clips_reconstructs_held_out_clips_better(tmp_path):
    """The issue's held-out bar. Initialisation = the bundled family's LaLRM (trained on captured synthetic frames,
    never on generated clips). `lalrm.train` continues it 30 steps on 8 clips the bundled family generated from 2
    images x 8 camera paths; it is scored on 4 clips of 4 OTHER images along 4 OTHER paths (disjoint scene seeds),
    against their decoded frames, and must gain HELD_GAIN_DB over its initialisation.
    Why not from scratch: with a handful of clips a randomly initialised LaLRM overfits (held-out 19.05 -> 14.15 dB,
    issue-22 notes); the family's LaLRM already decodes latents into sensible Gaussians, and the bar measures that
    training on generated clips moves it toward what generated clips look like, beyond the clips it saw.
    Measured (1 thread on a loaded machine: clips 12.6 s each, a step 16.7 s, ~12 min in all): held-out 26.57 ->
    27.00 dB (+0.44), the held-out clips' per-clip mean colour 24.27 dB; training clips 22.11 -> 23.57 dB. The gain
    is small and depends on the learning rate: at 6e-4 the same run gives 26.57 -> 26.69 (+0.12, below the bar;
    training clips -> 23.91): more steps on so few clips fit them and stop helping the others. Rerun under pytest
    with the aligned family (its clips differ): held-out 27.20 -> 27.66 dB (+0.46), mean colour 24.97 (25 min at one
    thread on a loaded machine)."""
    from lalrm import LaLRM
    from lalrm.train import train

    train_dir = write_demo_clips(tmp_path / "train", 7, 2, 17, 8, 4)
    held = list_clips(write_demo_clips(tmp_path / "held", 27, 4, 37, 4, 1))
    captured = write_synth(tmp_path / "synth", 1)  # required by data=synthetic, never drawn at ratio 1
    cfg = compose(CONFIGS / "lalrm", [*FINE_TUNE, f"data.sources.synthetic.root={captured}",
                                      f"data.generated.root={train_dir}", f"trainer.output_dir={tmp_path}/run"])
    with torch.no_grad():
        before = decoded_frame_psnr(LaLRM.from_pretrained(DEMO / "lalrm"), held)
        floor = mean_colour_psnr(held)
    result = train(cfg)
    with torch.no_grad():
        after = decoded_frame_psnr(LaLRM.from_pretrained(result.model_dir), held)
    print(f"held-out clips, decoded-frame PSNR: bundled LaLRM {before:.2f}, fine-tuned {after:.2f}, "
          f"mean colour {floor:.2f}")
    assert len(list_clips(train_dir)) == 8 and len(held) == 4
    assert after > before + HELD_GAIN_DB
