"""A RealEstate10K camera file (no image size of its own) is read at the aspect it was made for: the image's
when they agree, else RealEstate10K's 16:9; then centre-cropped to the model as the image is, so pixels stay
square. The real file (fixtures/README.md) normalises fx by 16:9 frames' width: fx 0.4748, fy 0.8441."""

import re
import warnings
from pathlib import Path

import pytest
import torch

from wonderland.formats import RE10K_SIZE, read_re10k_txt
from wonderland.geometry import Cameras
from wonderland.trajectories import load_trajectory, save_re10k_txt

REAL = Path(__file__).parent / "fixtures" / "re10k_0bf152ef84195293.txt"
MODEL = (480, 720)  # the full family's 3:2


def square(cams: Cameras) -> bool:
    return bool(torch.allclose(cams.K[:, 0, 0], cams.K[:, 1, 1], rtol=1e-3))


def test_real_file_alone_is_read_at_16_9_and_stays_square_through_the_crop():
    cams = load_trajectory(REAL)
    assert (cams.height, cams.width) == RE10K_SIZE and square(cams)
    fitted = cams.center_crop_resize(*MODEL)
    assert square(fitted)
    # The bug this replaces: the normalised intrinsics read at the model's 3:2 (fx 341.9 px, fy 405.2 px).
    wrong = load_trajectory(REAL, height=480, width=720)
    assert wrong.K[0, 0, 0].item() == pytest.approx(341.86, abs=0.01) and wrong.K[0, 1, 1].item() == pytest.approx(
        405.17, abs=0.01)
    # Same horizontal field of view as the 720 x 1080 centre of the 16:9 frame the file describes.
    fov_x = 2 * torch.atan(fitted.width / 2 / fitted.K[0, 0, 0])
    assert fov_x.item() == pytest.approx(2 * torch.atan(torch.tensor(1080 / 2 / (0.474812461 * 1280))).item())


@pytest.mark.parametrize("image_size", [(360, 640), (1080, 1920), (90, 160)])
def test_a_16_9_image_of_any_size_agrees_and_gives_its_size(image_size):
    cams = load_trajectory(REAL, image_size=image_size)  # no warning: the aspects agree
    assert (cams.height, cams.width) == image_size and square(cams.center_crop_resize(*MODEL))


def test_an_image_of_another_aspect_keeps_16_9_and_warns():
    message = f"{REAL} describes 720 x 1280 images, the image is 480 x 640"
    with pytest.warns(UserWarning, match=re.escape(message)):
        cams = load_trajectory(REAL, image_size=(480, 640))
    assert (cams.height, cams.width) == RE10K_SIZE and square(cams.center_crop_resize(*MODEL))


def test_a_file_made_for_4_3_frames_is_read_at_the_4_3_image_it_goes_with(tmp_path):
    made = Cameras(torch.eye(4, dtype=torch.float64)[None].repeat(3, 1, 1),
                   torch.tensor([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]], dtype=torch.float64).repeat(3, 1, 1),
                   480, 640)
    save_re10k_txt(tmp_path / "four_three.txt", made)
    cams = load_trajectory(tmp_path / "four_three.txt", image_size=(960, 1280))
    assert (cams.height, cams.width) == (960, 1280) and square(cams)
    torch.testing.assert_close(cams.resize(480, 640).K, made.K)  # exactly the cameras it was written from


def test_poses_do_not_depend_on_the_size_read_at():
    rows = read_re10k_txt(REAL).rows
    w2c = torch.eye(4, dtype=torch.float64).repeat(len(rows), 1, 1)
    w2c[:, :3] = rows[:, 6:].reshape(-1, 3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # agreeing sizes warn nothing
        read = [load_trajectory(REAL), load_trajectory(REAL, image_size=(360, 640))]
    with pytest.warns(UserWarning):
        read.append(load_trajectory(REAL, image_size=(480, 640)))
    for cams in read:
        torch.testing.assert_close(cams.c2w, torch.linalg.inv(w2c))
