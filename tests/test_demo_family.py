"""The committed demo family (models/wonderland-demo) loads through the real path and generates.

One short CLI run (2 denoising steps) on the bundled example and trajectory; every output is read back.
"""

import json

import pytest
import torch

from wonderland.cli.generate import default_model_dir, main
from wonderland.gaussians import load_ply
from wonderland.pipeline.manifest import read_manifest
from wonderland.trajectories import load_trajectory
from wonderland.video import read_video

MODEL = default_model_dir()
ASSETS = MODEL.parents[1] / "assets"
IMAGE = ASSETS / "examples" / "heldout_scene.png"
TRAJECTORY = ASSETS / "trajectories" / "heldout_scene.json"


def test_manifest_describes_a_small_49_frame_family():
    m = read_manifest(MODEL)
    assert (m.num_frames, m.height, m.width) == (49, 32, 48)
    assert m.prompt_embeds is not None and not m.has_text_encoder  # the tiny family has no T5
    size = sum(p.stat().st_size for p in MODEL.rglob("*") if p.is_file())
    assert size < 50 * 2**20


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    argv = [str(IMAGE), "--trajectory", str(TRAJECTORY), "--out", str(out), "--steps", "2", "--quiet"]
    assert main(argv) == 0  # no --model: the bundled default
    return out


def test_short_generation_writes_every_output_with_the_right_shapes(generated):
    video, fly = read_video(generated / "video.mp4"), read_video(generated / "flythrough.mp4")
    assert video.shape == fly.shape == (49, 3, 32, 48)
    g = load_ply(generated / "scene.ply")
    assert g.means.shape == (49 * 32 * 48, 3)  # the lowres-stage head: one Gaussian per video pixel
    assert torch.isfinite(g.means).all() and torch.isfinite(g.scales).all()
    report = json.loads((generated / "report.json").read_text())
    assert report["num_gaussians"] == 49 * 32 * 48 and report["settings"]["steps"] == 2
    assert (generated / "scene.splat").stat().st_size == 32 * 49 * 32 * 48  # .splat: 32 bytes per Gaussian


def test_cameras_come_back_in_the_trajectory_units(generated):
    given, written = load_trajectory(TRAJECTORY), load_trajectory(generated / "cameras.json")
    torch.testing.assert_close(written.c2w, given.c2w, atol=1e-4, rtol=0)
    # the Gaussians live in the same world frame: frame 0's pixel-aligned Gaussians (the first H x W, the
    # map is (F, H, W)) project onto frame 0's pixel centres, in front of its camera
    first = load_ply(generated / "scene.ply").means[: 32 * 48].double()
    uv, depth = given[0].project(first)
    v, u = torch.meshgrid(torch.arange(32.0), torch.arange(48.0), indexing="ij")
    centres = torch.stack([u, v], -1).reshape(-1, 2).double() + 0.5
    torch.testing.assert_close(uv, centres, atol=1e-2, rtol=0)
    assert (depth > 0).all()
