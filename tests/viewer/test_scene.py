"""The viser scene: one frustum per camera at the camera's pose, the generated frames on them, the path."""

import logging

import numpy as np
import pytest
import torch
import viser
from scipy.spatial.transform import Rotation

from wonderland.trajectories import save_trajectory
from wonderland.video import write_video
from wonderland.viewer.scene import build_scene, load_cameras

from .scenes import red_over_blue, rolled_orbit


@pytest.fixture
def server():
    s = viser.ViserServer(host="127.0.0.1", port=0, verbose=False)
    yield s
    s.stop()


def test_one_frustum_per_camera_at_its_pose(server):
    cams = rolled_orbit(7)
    frames = np.random.default_rng(0).integers(0, 255, (7, 32, 48, 3), dtype=np.uint8)
    handles = build_scene(server, red_over_blue(cams), cams, frames)

    assert len(handles.frusta) == len(cams) == 7
    c2w = cams.c2w.numpy()
    for i, f in enumerate(handles.frusta):
        # viser places a frustum by (wxyz, position) in OpenCV camera axes: both must give back c2w.
        np.testing.assert_allclose(Rotation.from_quat(f.wxyz, scalar_first=True).as_matrix(), c2w[i, :3, :3],
                                   atol=1e-6)
        np.testing.assert_allclose(f.position, c2w[i, :3, 3], atol=1e-6)
        np.testing.assert_allclose(f.fov, 2 * np.arctan(32 / 2 / cams.K[i, 1, 1].item()), rtol=1e-6)
        assert f.aspect == pytest.approx(48 / 32)
        np.testing.assert_array_equal(f.image, frames[i])
    np.testing.assert_allclose(handles.path.points, c2w[:, :3, 3], atol=1e-6)
    # The scene's up is camera 0's up (its -y axis), here world +y because the world is rolled.
    np.testing.assert_allclose(server.initial_camera.up, -c2w[0, :3, 1], atol=1e-9)


def test_frames_come_from_the_video_beside_the_cameras(tmp_path, caplog):
    cams = rolled_orbit(5)
    save_trajectory(tmp_path / "cameras.json", cams)
    video = torch.rand(5, 3, 32, 48, generator=torch.Generator().manual_seed(0))
    write_video(tmp_path / "video.mp4", video)
    loaded, frames = load_cameras(tmp_path / "cameras.json")
    torch.testing.assert_close(loaded.c2w, cams.c2w)
    assert frames.shape == (5, 32, 48, 3) and frames.dtype == np.uint8
    # lossy H.264, but the frames must be these frames in this order
    errors = np.abs(frames[:, None] / 255 - video.permute(0, 2, 3, 1).numpy()[None]).mean((2, 3, 4))  # (5, 5)
    assert (errors.argmin(1) == np.arange(5)).all()

    write_video(tmp_path / "video.mp4", video[:3])  # a video that does not match: frusta without frames
    with caplog.at_level(logging.WARNING):
        _, frames = load_cameras(tmp_path / "cameras.json")
    assert frames is None and "3 frames for 5 cameras" in caplog.text
