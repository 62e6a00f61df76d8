"""`wonderland-generate --trajectory <RealEstate10K .txt>` with a 16:9 image, end to end with the tiny family:
the file is read at the image's size (they agree), centre-cropped to the model as the image is, so the
cameras written to cameras.json have square pixels; poses come back in the file's units."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from wonderland.cli.generate import main as generate
from wonderland.formats import read_re10k_txt
from wonderland.trajectories import load_trajectory, make_preset, save_trajectory

from .conftest import H, W

REAL = Path(__file__).parents[1] / "trajectories" / "fixtures" / "re10k_0bf152ef84195293.txt"


def test_real_re10k_file_with_a_16_9_image_gives_square_pixels_and_its_poses(tiny_family, tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (90, 160, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    save_trajectory(tmp_path / "two.json", make_preset("static", 2, H, W))  # a 2-frame fly-through: fast
    out = tmp_path / "out"
    assert generate([str(tmp_path / "a.png"), "--trajectory", str(REAL), "--model", str(tiny_family), "--out",
                     str(out), "--quiet", "--steps", "1", "--render-trajectory", str(tmp_path / "two.json")]) == 0
    cams = load_trajectory(out / "cameras.json")
    assert (cams.height, cams.width) == (H, W) and len(cams) == 49  # 16 lines resampled to the model's 49
    torch.testing.assert_close(cams.K[:, 0, 0], cams.K[:, 1, 1], rtol=1e-5, atol=0)  # fx = fy after the crop
    # The 16:9 frame's focal length, in pixels of the 32 x 48 crop: 0.474812461 * 160 * (32 / 90).
    assert cams.K[0, 0, 0].item() == pytest.approx(0.474812461 * 160 * 32 / 90, rel=1e-5)
    rows = read_re10k_txt(REAL).rows
    w2c = torch.eye(4, dtype=torch.float64).repeat(len(rows), 1, 1)
    w2c[:, :3] = rows[:, 6:].reshape(-1, 3, 4)
    c2w = torch.linalg.inv(w2c)
    torch.testing.assert_close(cams.c2w[[0, -1]], c2w[[0, -1]], rtol=0, atol=2e-5)  # float32 through the model
