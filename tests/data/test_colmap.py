"""COLMAP / Tanks-and-Temples reader on a model written with pycolmap; projections must agree with
pycolmap's own camera model."""

import numpy as np
import pycolmap
import pytest
import torch

from tests.data.conftest import write_png
from wonderland.data import open_scenes
from wonderland.errors import InputError
from wonderland.geometry import Cameras, look_at

H, W = 40, 60


def _write_model(folder, cams: Cameras, names: list[str]) -> None:
    rec = pycolmap.Reconstruction()
    fx, fy, cx, cy = (float(v) for v in (cams.K[0, 0, 0], cams.K[0, 1, 1], cams.K[0, 0, 2], cams.K[0, 1, 2]))
    camera = pycolmap.Camera(model="PINHOLE", width=W, height=H, params=[fx, fy, cx, cy], camera_id=1)
    rec.add_camera_with_trivial_rig(camera)
    for i, (name, w2c) in enumerate(zip(names, cams.w2c.numpy())):
        image = pycolmap.Image(name=name, camera_id=1, image_id=i + 1)
        rec.add_image_with_trivial_frame(image, pycolmap.Rigid3d(w2c[:3, :4]))
    (folder / "sparse" / "0").mkdir(parents=True)
    rec.write(str(folder / "sparse" / "0"))


def test_pycolmap_model_reads_back(tmp_path):
    eyes = torch.tensor([[2.0, -0.5, -3.0], [0.0, -0.4, -3.5], [-2.0, -0.6, -3.0]], dtype=torch.float64)
    c2w = look_at(eyes, torch.zeros(3, dtype=torch.float64).expand(3, 3))
    cams = Cameras(c2w, torch.tensor([[50.0, 0, 31.0], [0, 52.0, 19.5], [0, 0, 1]], dtype=torch.float64), H, W)
    names = ["00002.jpg", "00000.jpg", "00001.jpg"]  # COLMAP ids in another order than the names
    folder = tmp_path / "tanks" / "Truck"
    _write_model(folder, cams, names)
    for name in names:
        write_png(folder / "images" / name, np.full((H, W, 3), 10 + 50 * int(name[:5])))
    scenes = open_scenes("tanks", tmp_path / "tanks")
    assert scenes.keys == ["Truck"]
    scene = scenes[0]
    order = [1, 2, 0]  # by name
    torch.testing.assert_close(scene.cameras.c2w, cams.c2w[order], atol=1e-10, rtol=0)
    frames, _ = scene.load_frames([0, 2])
    assert frames[0, 0, 0, 0].item() == pytest.approx(10 / 255)
    assert frames[1, 0, 0, 0].item() == pytest.approx(110 / 255)
    # A world point through pycolmap's own model vs through our Cameras.
    X = np.array([0.2, 0.3, -0.1])
    rec = pycolmap.Reconstruction(str(folder / "sparse" / "0"))
    uv, _ = scene.cameras.project(torch.tensor(X).expand(3, 1, 3))
    for i, name in enumerate(sorted(names)):
        image = rec.find_image_with_name(name)
        pose = image.cam_from_world() if callable(image.cam_from_world) else image.cam_from_world
        expect = rec.cameras[image.camera_id].img_from_cam(pose * X)
        np.testing.assert_allclose(uv[i, 0].numpy(), np.asarray(expect).reshape(-1)[:2], atol=1e-9)


def test_unreadable_model_is_an_error(tmp_path):
    (tmp_path / "s" / "sparse" / "0").mkdir(parents=True)
    (tmp_path / "s" / "sparse" / "0" / "cameras.bin").write_bytes(b"garbage")
    with pytest.raises(InputError, match="none of the 1 colmap scenes is readable.*unreadable"):
        open_scenes("colmap", tmp_path)
