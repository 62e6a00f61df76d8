"""End to end: `wonderland-generate` with a tiny model family saved to disk."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from wonderland.cli.generate import main as generate
from wonderland.gaussians import load_ply
from wonderland.pipeline import WonderlandPipeline
from wonderland.trajectories import load_trajectory, make_preset, save_trajectory
from wonderland.video import read_video

from .conftest import H, W

NUM_GAUSSIANS = 49 * (H // 2) * (W // 2)  # head stride 8 / patch 2: a half-resolution map per frame


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)).save(d / "room.png")
    save_trajectory(d / "orbit.json", make_preset("orbit", 49, 480, 720, degrees=40, depth=3.0))
    save_trajectory(d / "short.json", make_preset("dolly_in", 13, 480, 720))
    return d


@pytest.fixture(scope="module")
def generated(tiny_family, inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "room"
    code = generate([str(inputs / "room.png"), "--trajectory", str(inputs / "orbit.json"), "--model",
                     str(tiny_family), "--out", str(out), "--quiet", "--seed", "3"])
    return code, out


def test_every_output_is_written_and_valid(generated, inputs):
    code, out = generated
    assert code == 0
    g = load_ply(out / "scene.ply")
    assert g.means.shape == (NUM_GAUSSIANS, 3)
    assert torch.isfinite(g.means).all()
    for name in ("video.mp4", "flythrough.mp4"):
        video = read_video(out / name)
        assert video.shape == (49, 3, H, W), name
    cams = load_trajectory(out / "cameras.json", num_frames=49)
    # cameras.json is the trajectory in the user's units, fitted to the model resolution.
    given = load_trajectory(inputs / "orbit.json").center_crop_resize(H, W)
    torch.testing.assert_close(cams.c2w, given.c2w.to(cams.c2w), atol=1e-5, rtol=0)
    torch.testing.assert_close(cams.K, given.K.to(cams.K), atol=1e-4, rtol=0)
    report = json.loads((out / "report.json").read_text())
    assert report["num_gaussians"] == NUM_GAUSSIANS
    assert report["settings"]["seed"] == 3
    assert {"load", "video", "reconstruct", "flythrough"} <= set(report["stages"])
    assert report["image"]["crop_box_top_left_height_width"] == [0, 12, 90, 135]  # 16:9 -> 2:3 centre crop
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_gaussians_follow_the_trajectory_units(tiny_family, inputs):
    """Scaling the trajectory's world scales the scene: results come back in the user's units."""
    pipe = WonderlandPipeline.from_pretrained(tiny_family)
    pipe.set_progress_bar(False)
    image = torch.rand(3, 40, 60, generator=torch.Generator().manual_seed(1))
    traj = make_preset("orbit", 49, 480, 720, degrees=40, depth=3.0)
    a = pipe(image, traj, seed=5)
    b = pipe(image, traj, seed=5)
    torch.testing.assert_close(a.latents, b.latents, rtol=0, atol=0)  # deterministic with a fixed seed
    c = pipe(image, traj, seed=6)
    assert not torch.equal(a.latents, c.latents)
    big = make_preset("orbit", 49, 480, 720, degrees=40, depth=3.0)
    big.c2w[:, :3, 3] *= 10
    d = pipe.reconstruct(a.latents, pipe.fit_trajectory(big))
    torch.testing.assert_close(d.means, a.gaussians.means * 10, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(d.scales, a.gaussians.scales * 10, rtol=1e-4, atol=1e-5)


def test_wrong_frame_count_is_resampled_with_a_warning(tiny_family, inputs):
    pipe = WonderlandPipeline.from_pretrained(tiny_family)
    with pytest.warns(UserWarning, match="resampled"):
        cams = pipe.fit_trajectory(load_trajectory(inputs / "short.json"))
    assert len(cams) == 49 and (cams.height, cams.width) == (H, W)


def test_batch_mode_reports_one_bad_input_and_goes_on(tiny_family, inputs, tmp_path, capsys):
    (tmp_path / "broken.png").write_bytes(b"not an image")
    listing = tmp_path / "jobs.txt"
    listing.write_text(f"{inputs / 'room.png'} {inputs / 'orbit.json'}\n{tmp_path / 'broken.png'}\n")
    code = generate(["--list", str(listing), "--preset", "dolly_in", "--model", str(tiny_family),
                     "--out", str(tmp_path / "out"), "--quiet", "--steps", "1"])
    assert code == 1
    assert (tmp_path / "out" / "room" / "scene.ply").is_file()
    assert not (tmp_path / "out" / "broken" / "scene.ply").exists()
    err = capsys.readouterr().err
    assert "broken.png" in err and "not a readable image" in err


def _no_model_load(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("a model was loaded before the input was checked")

    monkeypatch.setattr(WonderlandPipeline, "from_pretrained", boom)


@pytest.mark.parametrize("case", ["unreadable_image", "missing_trajectory", "nan_trajectory", "no_manifest",
                                  "missing_weights", "unwritable_out", "no_camera_path"])
def test_bad_input_is_one_line_exit_2_before_loading(case, tiny_family, inputs, tmp_path, capsys, monkeypatch):
    import shutil

    _no_model_load(monkeypatch)
    image, traj, model, out = inputs / "room.png", inputs / "orbit.json", tiny_family, tmp_path / "out"
    expect = None
    if case == "unreadable_image":
        image = tmp_path / "x.png"
        image.write_text("nope")
        expect = "x.png"
    elif case == "missing_trajectory":
        traj, expect = tmp_path / "none.json", "none.json"
    elif case == "nan_trajectory":
        data = json.loads(traj.read_text())
        data["frames"][3]["pose"][0][3] = float("nan")
        traj = tmp_path / "nan.json"
        traj.write_text(json.dumps(data))
        expect = "frames[3].pose"
    elif case == "no_manifest":
        model, expect = tmp_path, "wonderland.json"
    elif case == "missing_weights":
        model = tmp_path / "family"
        shutil.copytree(tiny_family, model)
        for f in (model / "lalrm").glob("*.safetensors"):
            f.unlink()
        expect = "lalrm"
    elif case == "unwritable_out":
        out = tmp_path / "file"
        out.write_text("a file, not a directory")
        expect = "--out"
    args = [str(image), "--model", str(model), "--out", str(out), "--quiet"]
    args += [] if case == "no_camera_path" else ["--trajectory", str(traj)]
    expect = expect or "--preset"
    try:
        code = generate(args)
    except SystemExit as e:  # refused by the argument parser itself
        code = e.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expect in err[0], err


def test_flythrough_renders_the_exported_scene_when_min_opacity_prunes(tiny_family, inputs, tmp_path):
    """With --min-opacity the PLY holds the pruned scene; the fly-through must show that scene, not the full one."""
    from wonderland.images import load_image
    from wonderland.metrics import psnr
    from wonderland.pipeline.outputs import write_outputs
    from wonderland.render import render

    pipe = WonderlandPipeline.from_pretrained(tiny_family)
    result = pipe(load_image(inputs / "room.png"), load_trajectory(inputs / "orbit.json"), seed=0)
    g = result.gaussians
    with torch.no_grad():  # half the Gaussians below 0.5 and red: pruning them must show in the picture
        g.opacities.copy_(torch.linspace(0.02, 0.98, g.num)[torch.randperm(g.num, generator=torch.Generator())])
        g.colors[g.opacities < 0.5] = torch.tensor([1.0, 0.0, 0.0])
    write_outputs(result, tmp_path, {}, min_opacity=0.5, progress=False)
    kept = load_ply(tmp_path / "scene.ply")
    assert 0.4 * g.num < kept.num < 0.6 * g.num
    fly, cams = read_video(tmp_path / "flythrough.mp4"), result.cameras.to(torch.float32)
    pruned, full = (render(x, cams, 1.0).rgb.clamp(0, 1) for x in (g.prune(0.5), g))
    assert psnr(fly, pruned).mean() > psnr(fly, full).mean() + 6  # mp4 is lossy: compare against both
