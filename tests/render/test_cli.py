"""wonderland-render: preset and trajectory-file videos, the depth video, one-line errors with exit 2."""

import pytest
import torch

from wonderland.gaussians import save_ply
from wonderland.render import render
from wonderland.render.cli import main
from wonderland.trajectories import make_preset, save_trajectory
from wonderland.video import read_video

from .scenes import random_scene


@pytest.fixture
def scene_ply(tmp_path):
    g = random_scene(300, seed=0, dtype=torch.float32, spread=0.5, scale=(0.05, 0.15))
    g.means = g.means + torch.tensor([0.0, 0.0, 2.0])  # around the orbit's look-at point
    save_ply(tmp_path / "scene.ply", g)
    return tmp_path / "scene.ply"


def test_preset_video_matches_direct_renders_and_writes_depth(scene_ply, tmp_path, capsys):
    out = tmp_path / "fly.mp4"
    argv = [str(scene_ply), "--preset", "orbit", "--frames", "4", "--height", "32", "--width", "48",
            "--background", "1", "1", "1", "--out", str(out), "--depth"]
    assert main(argv) == 0
    video, depth = read_video(out), read_video(tmp_path / "fly_depth.mp4")
    assert video.shape == (4, 3, 32, 48) and depth.shape == (4, 3, 32, 48)
    from wonderland.gaussians import load_ply

    cams = make_preset("orbit", 4, 32, 48)
    expected = render(load_ply(scene_ply), cams, torch.ones(3)).rgb
    assert (video - expected).abs().mean() < 0.03  # H.264 at quality 8
    assert depth.std() > 0.05  # a colour map, not a blank frame


def test_trajectory_file_gives_the_same_video_as_the_preset(scene_ply, tmp_path):
    save_trajectory(tmp_path / "orbit.json", make_preset("orbit", 3, 24, 32))
    assert main([str(scene_ply), "--trajectory", str(tmp_path / "orbit.json"), "--out", str(tmp_path / "a.mp4")]) == 0
    assert main([str(scene_ply), "--preset", "orbit", "--frames", "3", "--height", "24", "--width", "32",
                 "--out", str(tmp_path / "b.mp4")]) == 0
    torch.testing.assert_close(read_video(tmp_path / "a.mp4"), read_video(tmp_path / "b.mp4"))


def test_bad_input_is_one_line_and_exit_2(scene_ply, tmp_path, capsys):
    cases = [
        ([str(tmp_path / "absent.ply"), "--preset", "orbit"], "absent.ply"),
        ([str(scene_ply), "--preset", "no_such_preset"], "preset"),
        ([str(scene_ply), "--trajectory", str(tmp_path / "missing.json")], "missing.json"),
        ([str(scene_ply), "--preset", "orbit", "--out", str(tmp_path / "x.gif")], "mp4"),
    ]
    (tmp_path / "bad.ply").write_bytes(b"ply\nformat ascii 1.0\nend_header\n")
    cases.append(([str(tmp_path / "bad.ply"), "--preset", "orbit"], "bad.ply"))
    for argv, needle in cases:
        if "--out" not in argv:
            argv = [*argv, "--out", str(tmp_path / "o.mp4")]
        try:
            code = main(argv)
        except SystemExit as e:  # refused by the argument parser itself
            code = e.code
        assert code == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and needle in err and err.startswith("wonderland-render: error:")
    assert not (tmp_path / "o.mp4").exists()
