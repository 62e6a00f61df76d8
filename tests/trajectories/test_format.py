import json

import pytest
import torch

from wonderland.errors import InputError
from wonderland.trajectories import (
    load_trajectory,
    make_preset,
    save_re10k_txt,
    save_trajectory,
    save_transforms_json,
)
from wonderland.trajectories.cli import main as trajectory_cli


@pytest.fixture
def spiral():
    return make_preset("spiral", num_frames=9, height=36, width=64)


@pytest.mark.parametrize("convention", ["opencv_c2w", "opencv_w2c", "opengl_c2w"])
def test_json_round_trip_in_every_convention(tmp_path, spiral, convention):
    save_trajectory(tmp_path / "t.json", spiral, convention)
    back = load_trajectory(tmp_path / "t.json", num_frames=9)
    torch.testing.assert_close(back.c2w, spiral.c2w)
    torch.testing.assert_close(back.K, spiral.K)
    assert (back.height, back.width) == (36, 64)


def test_three_formats_agree(tmp_path, spiral):
    save_trajectory(tmp_path / "t.json", spiral)
    save_re10k_txt(tmp_path / "t.txt", spiral, url="https://example.invalid/v")
    save_transforms_json(tmp_path / "transforms.json", spiral)
    a = load_trajectory(tmp_path / "t.json")
    b = load_trajectory(tmp_path / "t.txt", height=36, width=64)
    c = load_trajectory(tmp_path / "transforms.json")
    for other in (b, c):
        torch.testing.assert_close(other.c2w, a.c2w)
        torch.testing.assert_close(other.K, a.K)


def test_fov_intrinsics_and_3x4_poses(tmp_path):
    data = {"convention": "opencv_c2w", "height": 100, "width": 200, "intrinsics": {"fov_y_degrees": 90},
            "frames": [{"pose": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]}]}
    (tmp_path / "t.json").write_text(json.dumps(data))
    cams = load_trajectory(tmp_path / "t.json")
    assert float(cams.K[0, 0, 0]) == pytest.approx(50.0)  # f = (H/2) / tan(45 deg)
    assert float(cams.K[0, 0, 2]) == pytest.approx(100.0)


GOOD = {"convention": "opencv_c2w", "height": 10, "width": 10, "intrinsics": {"fx": 5, "fy": 5, "cx": 5, "cy": 5},
        "frames": [{"pose": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]}]}


def _bad(**changes):
    d = json.loads(json.dumps(GOOD))
    for k, v in changes.items():
        if v is None:
            d.pop(k)
        else:
            d[k] = v
    return d


BAD_CASES = {
    "missing_convention": (_bad(convention=None), "convention"),
    "unknown_convention": (_bad(convention="blender"), "convention"),
    "unknown_field": (_bad(extra=1), "extra"),
    "missing_intrinsics": (_bad(intrinsics=None), "intrinsics"),
    "missing_fx": (_bad(intrinsics={"fy": 1, "cx": 1, "cy": 1}), "intrinsics"),
    "non_rotation": (_bad(frames=[{"pose": [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]}]),
                     "frames[0].pose"),
    "nan_pose": (_bad(frames=[{"pose": [[1, 0, 0, float("nan")], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]}]),
                 "frames[0].pose"),
    "inf_focal": (_bad(intrinsics={"fx": float("inf"), "fy": 1, "cx": 1, "cy": 1}), "intrinsics.fx"),
    "bad_shape": (_bad(frames=[{"pose": [[1, 0], [0, 1]]}]), "frames[0].pose"),
    "empty_frames": (_bad(frames=[]), "frames"),
    "missing_height": (_bad(height=None), "height"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_json_names_file_and_field(tmp_path, case):
    data, field = BAD_CASES[case]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))  # json.dumps writes NaN/Infinity, which Python's reader accepts
    with pytest.raises(InputError) as err:
        load_trajectory(path)
    assert err.value.field == field
    assert str(path) in str(err.value)


def test_malformed_json_wrong_count_and_bad_re10k(tmp_path):
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(InputError, match="malformed JSON"):
        load_trajectory(tmp_path / "m.json")
    (tmp_path / "g.json").write_text(json.dumps(GOOD))
    with pytest.raises(InputError, match="expected 49 frames, got 1"):
        load_trajectory(tmp_path / "g.json", num_frames=49)
    (tmp_path / "r.txt").write_text("url\n0 0.5 0.5 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1\n")
    with pytest.raises(InputError, match="line 2"):
        load_trajectory(tmp_path / "r.txt")


def test_cli_writes_preset_and_plot_and_fails_cleanly(tmp_path, capsys):
    out = tmp_path / "orbit.json"
    assert trajectory_cli(["preset", "orbit", "--degrees", "90", "--frames", "9", "--out", str(out)]) == 0
    cams = load_trajectory(out, num_frames=9)
    torch.testing.assert_close(cams.c2w, make_preset("orbit", 9, degrees=90).c2w)
    png = tmp_path / "orbit.png"
    assert trajectory_cli(["show", str(out), "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "bad.json").write_text(json.dumps(_bad(convention="nope")))
    assert trajectory_cli(["show", str(tmp_path / "bad.json"), "--out", str(png)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "convention" in err[0] and "bad.json" in err[0]
    assert trajectory_cli(["preset", "orbit", "--radius", "1", "--out", str(out)]) == 2  # not an orbit parameter
