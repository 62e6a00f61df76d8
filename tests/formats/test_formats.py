"""One parser and one writer per camera file format (wonderland/formats/): a trajectory written as a RealEstate10K
.txt and as a transforms.json reads back identically through the trajectory path (`load_trajectory`) and the
dataset path (`open_scenes`), in the same frame order."""

import json

import pytest
import torch

from wonderland.data import CorruptSampleError, open_scenes
from wonderland.data.dl3dv import write_dl3dv_scene
from wonderland.data.re10k import parse_re10k_txt, write_re10k_scene
from wonderland.errors import InputError
from wonderland.formats import read_re10k_txt, read_transforms_json
from wonderland.geometry import Cameras
from wonderland.trajectories import load_trajectory, make_preset

H, W = 18, 32  # the frames; transforms.json describes 4x larger images, as DL3DV's does


def trajectory() -> Cameras:
    """A spiral whose focal length changes per frame (zoom), so per-frame intrinsics are exercised too."""
    spiral, zoom = make_preset("spiral", 7, H, W, radius=0.4, turns=0.75), make_preset("zoom_out", 7, H, W)
    return Cameras(spiral.c2w, zoom.K, H, W)


@pytest.fixture
def written(tmp_path):
    cams = trajectory()
    frames = (torch.arange(7)[:, None, None, None] * 30).expand(7, 3, H, W).to(torch.uint8)  # frame i: grey 30 i
    write_re10k_scene(tmp_path / "re", "clip", cams, frames, [1000 * i for i in range(7)])
    write_dl3dv_scene(tmp_path / "dl", "clip", cams, frames, downscale=4)
    return cams, tmp_path / "re" / "clip.txt", tmp_path / "dl" / "clip" / "transforms.json"


def four_readings(txt, js) -> dict[str, Cameras]:
    return {"trajectory txt": load_trajectory(txt, height=H, width=W),
            "trajectory json": load_trajectory(js).resize(H, W),  # the json describes 4x larger images
            "dataset txt": open_scenes("re10k", txt.parent)[0].cameras,
            "dataset json": open_scenes("dl3dv", js.parents[1])[0].cameras}


def test_both_formats_read_back_identically_through_both_paths(written):
    cams, txt, js = written
    for name, got in four_readings(txt, js).items():
        assert (got.height, got.width, len(got)) == (H, W, 7), name
        torch.testing.assert_close(got.c2w, cams.c2w, atol=1e-12, rtol=0, msg=name)
        torch.testing.assert_close(got.K, cams.K, atol=1e-9, rtol=0, msg=name)
    assert all("fl_x" in fr for fr in json.loads(js.read_text())["frames"])  # the zoom: per-frame intrinsics
    assert read_transforms_json(js).size == (4 * H, 4 * W)


def test_frame_order_is_the_same_in_both_paths(written):
    """transforms.json: by file name, whatever the json's order (DL3DV's is not temporal); .txt: file order."""
    cams, txt, js = written
    data = json.loads(js.read_text())
    data["frames"] = data["frames"][3:] + data["frames"][:3]  # the json's order rotated
    js.write_text(json.dumps(data))
    lines = txt.read_text().splitlines()
    txt.write_text("\n".join([lines[0], *lines[1:][::-1]]) + "\n")  # the .txt's frames reversed
    got = four_readings(txt, js)
    for name in ("trajectory json", "dataset json"):
        torch.testing.assert_close(got[name].c2w, cams.c2w, atol=1e-12, rtol=0, msg=name)
    for name in ("trajectory txt", "dataset txt"):
        torch.testing.assert_close(got[name].c2w, cams.c2w.flip(0), atol=1e-12, rtol=0, msg=name)
    scene = open_scenes("dl3dv", js.parents[1])[0]
    grey = scene.load_frames(range(7))[0][:, 0, 0, 0] * 255  # each frame still paired with its own image
    torch.testing.assert_close(grey, torch.arange(7.0) * 30)
    assert read_re10k_txt(txt).timestamps == [1000 * i for i in range(7)][::-1]


def test_one_parser_one_message(written):
    """A malformed line is refused by the trajectory path and skipped by the dataset path, both with the
    parser's words."""
    _, txt, _ = written
    lines = txt.read_text().splitlines()
    txt.write_text("\n".join([*lines[:3], "1 2 3", *lines[4:]]) + "\n")
    with pytest.raises(InputError, match="field 'line 4': expected 19 numbers") as refused:
        load_trajectory(txt)
    with pytest.raises(InputError, match="none of the 1 re10k scenes is readable") as skipped:
        open_scenes("re10k", txt.parent)
    assert str(refused.value) in str(skipped.value)
    with pytest.raises(CorruptSampleError) as e:
        parse_re10k_txt(txt, "clip")
    assert e.value.reason == "unreadable" and e.value.detail == str(refused.value)
