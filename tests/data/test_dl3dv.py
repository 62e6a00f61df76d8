"""DL3DV reader (nerfstudio transforms.json, OpenGL c2w, intrinsics of the full-size images) and the
agreement of the RE10K and DL3DV layouts on one synthetic scene."""

import json
import math

import numpy as np
import pytest
import torch

from tests.data.conftest import write_png
from wonderland.data import open_scenes
from wonderland.data.dl3dv import write_dl3dv_scene
from wonderland.data.re10k import write_re10k_scene
from wonderland.data.synth import make_synthetic_scene

H4, W4 = 27, 48  # images_4 size; transforms.json describes 108 x 192


def _gl_poses() -> list[np.ndarray]:
    """OpenGL c2w: identity (looking down -z), and one yawed by 60 degrees and moved."""
    a = math.radians(60)
    m = np.eye(4)
    m[:3, :3] = [[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]]
    m[:3, 3] = [0.4, 0.1, -0.3]
    return [np.eye(4), m]


def _write_fixture(folder, per_frame: bool = False):
    intr = {"fl_x": 100.0, "fl_y": 90.0, "cx": 95.0, "cy": 50.0}
    frames = []
    for i, m in enumerate(_gl_poses()):
        fr = {"file_path": f"images/frame_{i + 1:05d}.png", "transform_matrix": m.tolist()}
        if per_frame:
            fr |= {"fl_x": 100.0 + 20 * i, "fl_y": 90.0 + 20 * i, "cx": 95.0, "cy": 50.0}
        frames.append(fr)
        write_png(folder / "images_4" / f"frame_{i + 1:05d}.png", np.full((H4, W4, 3), 100 * i))
    data = {"w": 192, "h": 108, **({} if per_frame else intr), "frames": frames[::-1]}  # json order not temporal
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "transforms.json").write_text(json.dumps(data))


@pytest.mark.parametrize("per_frame", [False, True])
def test_hand_fixture_cameras_match_the_opengl_math(tmp_path, per_frame):
    _write_fixture(tmp_path / "1K" / "abc123", per_frame)
    scenes = open_scenes("dl3dv", tmp_path)
    assert scenes.keys == ["1K/abc123"]
    scene = scenes[0]
    assert (scene.cameras.height, scene.cameras.width, scene.num_frames) == (H4, W4, 2)
    frames, _ = scene.load_frames([0, 1])
    assert frames[0].max() == 0 and frames[1].min() == pytest.approx(100 / 255)  # sorted by file name
    X = np.array([0.7, -0.2, -4.0])  # in front of both cameras
    uv, depth = scene.cameras.project(torch.tensor(X).expand(2, 1, 3))
    for i, m in enumerate(_gl_poses()):
        x, y, z = (np.linalg.inv(m) @ np.append(X, 1))[:3]  # OpenGL camera: looks down -z, y up
        f = (100.0 + 20 * i * per_frame, 90.0 + 20 * i * per_frame)
        u_full, v_full = 95.0 + f[0] * x / -z, 50.0 - f[1] * y / -z  # pixels of the 108 x 192 images
        np.testing.assert_allclose(uv[i, 0].numpy(), [u_full / 4, v_full / 4], rtol=1e-9)
        assert depth[i, 0].item() == pytest.approx(-z)


def test_missing_image_folder_is_a_skippable_scene_error(tmp_path):
    from wonderland.data import CorruptSampleError
    from wonderland.errors import InputError

    _write_fixture(tmp_path / "s")
    (tmp_path / "s" / "images_4").rename(tmp_path / "s" / "elsewhere")
    with pytest.raises(InputError, match="none of the 1 dl3dv scenes is readable"):
        open_scenes("dl3dv", tmp_path)
    _write_fixture(tmp_path / "t")
    scenes = open_scenes("dl3dv", tmp_path)  # one readable scene is enough to start
    with pytest.raises(CorruptSampleError) as e:
        scenes[0]
    assert e.value.reason == "missing_frame" and scenes[1].num_frames == 2


def test_same_synthetic_scene_reads_back_identically_from_both_layouts(tmp_path):
    frames, cams = make_synthetic_scene(11, 12, 36, 64)
    u8 = (frames * 255).round().to(torch.uint8)
    write_re10k_scene(tmp_path / "re", "s11", cams, u8, [i * 33333 for i in range(12)])
    write_dl3dv_scene(tmp_path / "dl", "s11", cams, u8, downscale=8)
    a, b = open_scenes("re10k", tmp_path / "re")[0], open_scenes("dl3dv", tmp_path / "dl")[0]
    assert a.key == b.key == "s11"
    assert json.loads((tmp_path / "dl" / "s11" / "transforms.json").read_text())["w"] == 64 * 8
    for scene in (a, b):
        torch.testing.assert_close(scene.cameras.c2w, cams.c2w, atol=1e-12, rtol=0)
        torch.testing.assert_close(scene.cameras.K, cams.K, atol=1e-9, rtol=0)
    fa, ca = a.load_frames(range(12), 24, 24)
    fb, cb = b.load_frames(range(12), 24, 24)
    assert torch.equal(fa, fb)
    torch.testing.assert_close(ca.K, cb.K, atol=1e-9, rtol=0)
    assert torch.equal(a.load_frames([5])[0], frames[5:6])  # lossless: the in-memory frames exactly
