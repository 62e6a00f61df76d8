"""Long walks end to end with the tiny family: a 145-frame orbit in three 49-frame chunks.

One uninterrupted run through the Python API stores its chunks; the CLI then writes the outputs from
them (`--resume`), and a CLI run killed for real (SIGKILL) after chunk 1 and resumed must write the same
files. `--render-trajectory` keeps the fly-throughs to two frames (the reference renderer is the slow
part on CPU); the slow test renders the whole path with the bundled family.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from wonderland.cli.generate import main as generate
from wonderland.gaussians import load_ply
from wonderland.images import load_image
from wonderland.metrics import psnr
from wonderland.pipeline import WonderlandPipeline
from wonderland.render import render
from wonderland.trajectories import load_trajectory, make_preset, save_trajectory
from wonderland.video import read_video

from .conftest import H, W

ROOT = Path(__file__).resolve().parents[2]
N = 145
# Stated margins (measured values in the README's "Long walks" paragraph and the closing note).
PSNR_MARGIN_DB = 1.0  # the merged scene at chunk k's conditioning camera vs chunk k's own Gaussians
MAX_COUNT_FRACTION = 0.8  # merged Gaussians / the naive concatenation of every chunk's Gaussians


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("walk_inputs")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)).save(d / "room.png")
    orbit = make_preset("orbit", N, 480, 720, degrees=270, depth=3.0)
    save_trajectory(d / "walk.json", orbit)
    save_trajectory(d / "short.json", orbit[:2])
    return d


@pytest.fixture(scope="module")
def walk(tiny_family, inputs, tmp_path_factory):
    """The uninterrupted run: Python API, chunks stored under <out>/chunks/."""
    out = tmp_path_factory.mktemp("walk") / "api"
    pipe = WonderlandPipeline.from_pretrained(tiny_family)
    pipe.set_progress_bar(False)
    result = pipe.generate_long(load_image(inputs / "room.png"), load_trajectory(inputs / "walk.json"), seed=3,
                                num_inference_steps=2, out_dir=out)
    return result, out, pipe


def cli_args(family, inputs, out, *extra):
    return [str(inputs / "room.png"), "--trajectory", str(inputs / "walk.json"), "--model", str(family), "--out",
            str(out), "--quiet", "--seed", "3", "--steps", "2", "--render-trajectory", str(inputs / "short.json"),
            *extra]


@pytest.fixture(scope="module")
def written(walk, tiny_family, inputs):
    """The CLI's outputs from the uninterrupted run's chunks (nothing is generated again)."""
    _, api, _ = walk
    out = api.parent / "cli"
    shutil.copytree(api / "chunks", out / "chunks")
    assert generate(cli_args(tiny_family, inputs, out, "--resume")) == 0
    return out


def test_chunks_follow_the_plan_and_the_trajectory(walk, inputs):
    result, _, pipe = walk
    traj = load_trajectory(inputs / "walk.json").center_crop_resize(H, W)
    assert [(r.chunk.start, r.chunk.stop) for r in result.chunks] == [(0, 49), (48, 97), (96, 145)]
    assert [r.seed for r in result.chunks] == [3, 4, 5]
    per_chunk = result.chunks[0].sampler["transformer_calls"]
    assert per_chunk >= 2 and result.sampler["chunks"] == 3 and result.sampler["transformer_calls"] == 3 * per_chunk
    for prev, nxt in zip(result.chunks, result.chunks[1:]):
        assert torch.equal(nxt.cameras.c2w[0], prev.cameras.c2w[-1])  # continuity, exactly
        # Chunk k+1's video starts right after its conditioning frame, which chunk k supplies.
        k = nxt.chunk.start
        assert torch.equal(result.frames[k], prev.frames[-1].float() / 255)
        assert torch.equal(result.frames[k + 1], nxt.frames[1].float() / 255)
    assert torch.equal(result.cameras.c2w, traj.c2w) and torch.equal(result.cameras.K, traj.K)
    assert result.frames.shape == (N, 3, H, W)
    # The orbit moves steadily: every chunk reached the models at chunk 0's scale ...
    assert [r.generator_scale for r in result.chunks] == pytest.approx([1.0] * 3, abs=1e-5)
    for r in result.chunks:  # ... so the LaLRM on the chunk's world cameras (normalised on their own) agrees
        direct = pipe.reconstruct(r.latents, r.cameras)
        torch.testing.assert_close(r.gaussians.means, direct.means, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(r.gaussians.scales, direct.scales, atol=1e-6, rtol=1e-4)


def fake_video(pipe):
    """A stand-in for the video model (random latents, the real shapes and normaliser): the LaLRM and the
    chunk bookkeeping run for real, in a second."""
    from wonderland.geometry import normalize_cameras
    from wonderland.images import fit_image
    from wonderland.latents import latent_shape
    from wonderland.pipeline import VideoResult

    m = pipe.manifest

    def generate_video(image, trajectory, prompt=None, seed=0, num_inference_steps=None, guidance_scale=None):
        cams = pipe.fit_trajectory(trajectory)
        g = torch.Generator().manual_seed(seed)
        latents = torch.randn(*latent_shape(m.num_frames, m.height, m.width), generator=g)
        frames = torch.rand(m.num_frames, 3, m.height, m.width, generator=g)
        return VideoResult(frames, latents, cams, normalize_cameras(cams)[1], fit_image(image, m.height, m.width))

    return generate_video


def dolly_then(second: str, n: int = 97, distance: float = 3.0):
    """Frames 0-48 dolly `distance` forward; frames 48-96 turn on the spot ("pan") or dolly 3x faster."""
    cams = make_preset("dolly_in", n, 480, 720)
    step = distance / 48
    z = torch.arange(n, dtype=torch.float64) * step
    if second == "pan":
        z[48:] = z[48]
        turn = make_preset("pan_right", n - 48, 480, 720, degrees=40)
        cams.c2w[48:, :3, :3] = turn.c2w[:, :3, :3]
    else:
        z[48:] = z[48] + 3 * step * torch.arange(n - 48, dtype=torch.float64)
    cams.c2w[:, 2, 3] = z
    return cams


def test_a_chunk_that_only_turns_comes_back_at_chunk_zeros_scale(tiny_family, monkeypatch):
    pipe = WonderlandPipeline.from_pretrained(tiny_family)
    monkeypatch.setattr(pipe, "generate_video", fake_video(pipe))
    result = pipe.generate_long(torch.rand(3, 32, 48), dolly_then("pan"))
    moving, turning = result.chunks
    assert float(result.normalization.scale) == pytest.approx(3.0)  # chunk 0 travels 3 units
    torch.testing.assert_close(moving.gaussians.means, pipe.reconstruct(moving.latents, moving.cameras).means,
                               atol=1e-4, rtol=1e-4)
    # On its own a still clip keeps scale 1 (SPEC section 0); in the walk it is at chunk 0's scale, 3.
    alone = pipe.reconstruct(turning.latents, turning.cameras)
    centre = turning.cameras.c2w[0, :3, 3].float()
    torch.testing.assert_close(turning.gaussians.means - centre, 3 * (alone.means - centre), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(turning.gaussians.scales, 3 * alone.scales, atol=1e-6, rtol=1e-4)


def test_a_chunk_of_another_extent_is_warned(tiny_family, monkeypatch):
    pipe = WonderlandPipeline.from_pretrained(tiny_family)
    monkeypatch.setattr(pipe, "generate_video", fake_video(pipe))
    with pytest.warns(UserWarning, match="chunk 1 travels 3.00x as far as chunk 0"):
        result = pipe.generate_long(torch.rand(3, 32, 48), dolly_then("faster"))
    assert result.chunks[1].generator_scale == pytest.approx(3.0)
    # Still in the trajectory's units: the LaLRM saw what the video model saw, both normalisers undone.
    r = result.chunks[1]
    torch.testing.assert_close(r.gaussians.means, pipe.reconstruct(r.latents, r.cameras).means, atol=1e-4, rtol=1e-4)


def test_merged_scene_matches_each_chunk_at_its_conditioning_camera(walk):
    result, _, _ = walk
    naive = sum(r.gaussians.num for r in result.chunks)
    assert result.gaussians.num == sum(r.merge.kept for r in result.chunks)
    assert result.gaussians.num <= MAX_COUNT_FRACTION * naive
    assert result.chunks[0].merge.kept == result.chunks[0].gaussians.num  # chunk 0 is kept whole
    for r in result.chunks:
        cam = r.cameras[:1].to(dtype=torch.float32)
        if r.chunk.index == 0:
            target = result.image.image
        else:  # chunk k was conditioned on chunk k-1's 8-bit frame at this camera
            prev = result.chunks[r.chunk.index - 1]
            target = prev.frames[r.chunk.conditioning_offset].float() / 255
        own = render(r.gaussians, cam, 1.0).rgb.clamp(0, 1)[0]
        merged = render(result.gaussians, cam, 1.0).rgb.clamp(0, 1)[0]
        assert float(psnr(merged, target)) >= float(psnr(own, target)) - PSNR_MARGIN_DB, r.chunk.index


def test_cli_writes_one_scene_of_the_whole_walk(walk, written, inputs):
    result, _, _ = walk
    out = written
    g = load_ply(out / "scene.ply")
    torch.testing.assert_close(g.means, result.gaussians.means, rtol=0, atol=0)
    video = read_video(out / "video.mp4")
    assert video.shape == (N, 3, H, W)
    assert read_video(out / "flythrough.mp4").shape == (2, 3, H, W)  # --render-trajectory
    cams = load_trajectory(out / "cameras.json", num_frames=N)
    given = load_trajectory(inputs / "walk.json").center_crop_resize(H, W)
    assert torch.equal(cams.c2w, given.c2w) and torch.equal(cams.K, given.K)  # every frame, exactly
    report = json.loads((out / "report.json").read_text())
    walk_report = report["long_navigation"]
    assert report["num_gaussians"] == walk_report["merged_gaussians"] == g.means.shape[0]
    assert walk_report["naive_gaussians"] == 3 * 49 * (H // 2) * (W // 2)
    assert [c["frames"] for c in walk_report["chunks"]] == [[0, 49], [48, 97], [96, 145]]
    assert all(c["seconds"]["video"] > 0 and c["resumed"] for c in walk_report["chunks"])
    assert report["sampler"] == {}  # every chunk came from the store: this run sampled nothing
    assert sum(c["merge"]["kept"] for c in walk_report["chunks"]) == g.means.shape[0]
    assert report["settings"]["merge"] == "previous" and report["settings"]["chunk_overlap"] == 1


def test_a_killed_run_resumes_to_the_same_outputs(written, tiny_family, inputs, tmp_path):
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": str(torch.get_num_threads()), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "wonderland.cli.generate",
                             *cli_args(tiny_family, inputs, out)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = out / "chunks" / "chunk_001" / "state.json"
    deadline = time.monotonic() + 900
    while not done.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    assert not (out / "chunks" / "chunk_002").exists() and not (out / "scene.ply").exists()

    assert generate(cli_args(tiny_family, inputs, out, "--resume")) == 0
    report = json.loads((out / "report.json").read_text())["long_navigation"]
    assert [c["resumed"] for c in report["chunks"]] == [True, True, False]
    for name in ("scene.ply", "scene.splat", "cameras.json"):
        assert (out / name).read_bytes() == (written / name).read_bytes(), name
    for name in ("video.mp4", "flythrough.mp4"):
        assert torch.equal(read_video(out / name), read_video(written / name)), name
    reference = json.loads((written / "report.json").read_text())["long_navigation"]
    for ours, theirs in zip(report["chunks"], reference["chunks"]):
        for key in ("frames", "seed", "gaussians", "merge", "generator_scale"):
            assert ours[key] == theirs[key], key
    assert not [p for p in out.rglob(".*")]  # no temporaries left, no half-written chunk


def _no_model_load(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("a model was loaded before the input was checked")

    monkeypatch.setattr(WonderlandPipeline, "from_pretrained", boom)


@pytest.mark.parametrize("case", ["jump", "align_overlap", "overlap", "colmap", "resume_other_seed"])
def test_bad_long_walk_is_one_line_exit_2_before_loading(case, written, tiny_family, inputs, tmp_path, capsys,
                                                         monkeypatch):
    _no_model_load(monkeypatch)
    out, extra = tmp_path / "out", []
    traj = inputs / "walk.json"
    if case == "jump":
        cams = load_trajectory(traj)
        cams.c2w[90:, 0, 3] += 2.0  # steps are ~0.1: a jump between frames 89 and 90
        traj = tmp_path / "jump.json"
        save_trajectory(traj, cams)
        expect = "frames[90]"
    elif case == "align_overlap":
        extra, expect = ["--merge", "align", "--chunk-overlap", "2"], "chunk_overlap"
    elif case == "overlap":
        extra, expect = ["--chunk-overlap", "25"], "chunk_overlap"
    elif case == "colmap":
        extra, expect = ["--poses", "colmap"], "poses"
    else:
        out, extra, expect = written, ["--resume", "--seed", "4"], "fingerprint.seed"
    args = cli_args(tiny_family, inputs, out, *extra)
    args[2] = str(traj)
    before = sorted(p.name for p in out.rglob("*")) if out.exists() else []
    assert generate(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expect in err[0], err
    assert (sorted(p.name for p in out.rglob("*")) if out.exists() else []) == before  # nothing written


@pytest.mark.slow
def test_bundled_family_walk_numbers(tmp_path):
    """The bundled demo family on a 145-frame orbit: the whole path rendered, the margins measured."""
    out = tmp_path / "demo"
    image = ROOT / "models" / "wonderland-demo" / "frames" / "test_0.png"
    assert generate([str(image), "--preset", "orbit", "--degrees", "270", "--frames", str(N), "--steps", "2",
                     "--out", str(out), "--quiet"]) == 0
    assert read_video(out / "flythrough.mp4").shape[0] == N
    assert read_video(out / "video.mp4").shape[0] == N
    report = json.loads((out / "report.json").read_text())["long_navigation"]
    assert report["merged_gaussians"] <= MAX_COUNT_FRACTION * report["naive_gaussians"]
    pipe = WonderlandPipeline.from_pretrained(ROOT / "models" / "wonderland-demo")
    pipe.set_progress_bar(False)
    result = pipe.generate_long(load_image(image), make_preset("orbit", N, 480, 720, degrees=270), seed=0,
                                num_inference_steps=2, out_dir=out, resume=True)  # the chunks just stored
    assert all(r.resumed for r in result.chunks)
    for r in result.chunks:
        cam = r.cameras[:1].to(dtype=torch.float32)
        target = result.image.image if r.chunk.index == 0 else \
            result.chunks[r.chunk.index - 1].frames[r.chunk.conditioning_offset].float() / 255
        own = float(psnr(render(r.gaussians, cam, 1.0).rgb.clamp(0, 1)[0], target))
        merged = float(psnr(render(result.gaussians, cam, 1.0).rgb.clamp(0, 1)[0], target))
        assert merged >= own - PSNR_MARGIN_DB, (r.chunk.index, own, merged)
