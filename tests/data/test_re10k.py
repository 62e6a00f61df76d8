"""RealEstate10K / ACID readers: layout (a) from a hand-written fixture with known poses, and the pixelSplat
`.torch` chunk format; the reader's Cameras must agree with the format's own math."""

import io
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from tests.data.conftest import write_png
from wonderland.data import open_scenes
from wonderland.data.synth import make_synthetic_scene
from wonderland.errors import InputError

H, W = 30, 40
INTR = (0.6, 0.8, 0.45, 0.55)  # fx fy cx cy normalised by W and H (deliberately not centred)


def _w2c_rows() -> list[np.ndarray]:
    """Three 3x4 world-to-camera matrices: identity; a 90 degree yaw; a tilt with an offset."""
    a = math.pi / 2
    R1 = np.array([[math.cos(a), 0, -math.sin(a)], [0, 1, 0], [math.sin(a), 0, math.cos(a)]])
    b = 0.3
    R2 = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    return [np.hstack([np.eye(3), np.zeros((3, 1))]), np.hstack([R1, [[0.5], [-0.2], [2.0]]]),
            np.hstack([R2, [[-1.0], [0.25], [0.5]]])]


def _write_hand_fixture(root, key="scene_a", stamps=(1000, 34366, 67733)):
    root.mkdir(parents=True, exist_ok=True)
    lines = ["https://www.youtube.com/watch?v=xyz"]
    for t, m in zip(stamps, _w2c_rows()):
        lines.append(" ".join(str(x) for x in [t, *INTR, 0, 0, *m.reshape(-1)]))
    (root / f"{key}.txt").write_text("\n".join(lines) + "\n")
    for i, t in enumerate(stamps):  # frame i is filled with grey level 40 * (i + 1)
        write_png(root / key / f"{t}.png", np.full((H, W, 3), 40 * (i + 1)))


def test_hand_fixture_cameras_match_the_format_math(tmp_path):
    _write_hand_fixture(tmp_path)
    scenes = open_scenes("re10k", tmp_path)
    assert scenes.keys == ["scene_a"] and len(scenes) == 1
    scene = scenes[0]
    assert scene.num_frames == 3 and (scene.cameras.height, scene.cameras.width) == (H, W)
    X = np.array([0.3, -0.4, 5.0])
    uv, depth = scene.cameras.project(torch.tensor(X).expand(3, 1, 3))
    for i, m in enumerate(_w2c_rows()):  # RE10K: x_cam = R X + t, pixels = normalised intrinsics * size
        x = m[:, :3] @ X + m[:, 3]
        expect = [INTR[0] * W * x[0] / x[2] + INTR[2] * W, INTR[1] * H * x[1] / x[2] + INTR[3] * H]
        np.testing.assert_allclose(uv[i, 0].numpy(), expect, rtol=1e-9)
        assert depth[i, 0].item() == pytest.approx(x[2])
    # OpenCV c2w: frame 0 is the world frame; centres are -R^T t.
    torch.testing.assert_close(scene.cameras.c2w[0], torch.eye(4, dtype=torch.float64))
    R1, t1 = _w2c_rows()[1][:, :3], _w2c_rows()[1][:, 3]
    np.testing.assert_allclose(scene.cameras.centers[1].numpy(), -R1.T @ t1, atol=1e-12)
    frames, cams = scene.load_frames([2, 0])
    assert frames.shape == (2, 3, H, W) and frames.dtype == torch.float32
    assert torch.allclose(frames[:, 0, 0, 0], torch.tensor([120 / 255, 40 / 255]))
    torch.testing.assert_close(cams.c2w, scene.cameras.c2w[[2, 0]])


def test_crop_and_resize_follow_the_pixels(tmp_path):
    _write_hand_fixture(tmp_path)
    key = "scene_a"
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (H, W, 3))
    write_png(tmp_path / key / "1000.png", img)
    scene = open_scenes("acid", tmp_path)[0]
    native, cams = scene.load_frames([0])
    square, sq_cams = scene.load_frames([0], 30, 30)  # centre crop of columns 5..35, no resampling
    torch.testing.assert_close(square, native[..., 5:35])
    assert sq_cams.K[0, 0, 2].item() == pytest.approx(INTR[2] * W - 5)
    # The projection of a point inside the crop moves by exactly the crop offset.
    X = torch.tensor([[[0.1, 0.05, 3.0]]], dtype=torch.float64)
    shift = torch.tensor([5.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(sq_cams.project(X)[0], cams.project(X)[0] - shift)
    half, half_cams = scene.load_frames([0], 15, 20)  # same aspect: a pure 2x downsample
    assert half.shape == (1, 3, 15, 20)
    torch.testing.assert_close(half_cams.project(X)[0], cams.project(X)[0] / 2)
    assert half.mean().item() == pytest.approx(native.mean().item(), abs=2e-3)


def test_layout_discovery_and_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        open_scenes("re10k", tmp_path / "missing")
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "lonely.txt").write_text("url\n")  # a camera file whose video was never downloaded
    with pytest.raises(InputError, match="no readable re10k scenes"):
        open_scenes("re10k", tmp_path)
    _write_hand_fixture(tmp_path / "train", key="b_scene")
    # frames kept under a separate root, mirroring the camera files' sub-folders
    frames_root = tmp_path / "frames"
    _write_hand_fixture(tmp_path / "cams" / "test", key="a_scene")
    (tmp_path / "cams" / "test" / "a_scene").rename(tmp_path / "a_frames")
    (frames_root / "test").mkdir(parents=True)
    (tmp_path / "a_frames").rename(frames_root / "test" / "a_scene")
    assert open_scenes("re10k", tmp_path / "train").keys == ["b_scene"]
    scene = open_scenes("re10k", tmp_path / "cams", frames_root=frames_root)[0]
    assert scene.key == "a_scene" and scene.load_frames([1])[0][0, 0, 0, 0].item() == pytest.approx(80 / 255)
    with pytest.raises(InputError, match="unknown dataset kind"):
        open_scenes("kitti", tmp_path)


def _jpeg_bytes(rgb: np.ndarray) -> torch.Tensor:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=98, subsampling=0)
    return torch.tensor(list(buf.getvalue()), dtype=torch.uint8)


@pytest.mark.parametrize("with_index", [False, True])
def test_pixelsplat_torch_chunks(tmp_path, with_index):
    """Chunks written exactly as pixelSplat's converter does: torch.save(list of dicts), JPEG byte tensors."""
    examples = []
    for n, seed in enumerate((3, 4)):
        frames, cams = make_synthetic_scene(seed, 6, 32, 48)
        rows = torch.tensor(np.concatenate([
            np.tile([cams.K[0, 0, 0] / 48, cams.K[0, 1, 1] / 32, cams.K[0, 0, 2] / 48, cams.K[0, 1, 2] / 32, 0, 0],
                    (6, 1)), cams.w2c[:, :3, :].reshape(6, 12).numpy()], 1), dtype=torch.float32)
        imgs = [_jpeg_bytes((f.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)) for f in frames]
        examples.append({"url": f"https://youtu.be/{n}", "timestamps": torch.arange(6, dtype=torch.int64) * 33366,
                         "cameras": rows, "images": imgs, "key": f"key{seed}"})
    (tmp_path / "test").mkdir()
    torch.save(examples[:1], tmp_path / "test" / "000000.torch")
    torch.save(examples[1:], tmp_path / "test" / "000001.torch")
    if with_index:
        (tmp_path / "test" / "index.json").write_text(json.dumps({"key3": "000000.torch", "key4": "000001.torch"}))
    scenes = open_scenes("re10k_torch", tmp_path)
    assert scenes.keys == ["key3", "key4"]
    for scene, seed in zip(scenes, (3, 4)):
        frames, cams = make_synthetic_scene(seed, 6, 32, 48)
        torch.testing.assert_close(scene.cameras.c2w, cams.c2w, atol=1e-5, rtol=0)
        torch.testing.assert_close(scene.cameras.K, cams.K, atol=1e-4, rtol=1e-5)
        got, _ = scene.load_frames(range(6))
        assert (got - frames).abs().mean() < 0.01  # JPEG at quality 98, no chroma subsampling
        assert scene.timestamps[1] == 33366
