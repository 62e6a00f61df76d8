import numpy as np
import pytest
import torch
from PIL import Image

from wonderland.errors import InputError
from wonderland.images import fit_image, load_image, prepare_image
from wonderland.video import read_video, write_video


def test_exif_rotated_jpeg_is_upright(tmp_path):
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = 255  # left half white in the stored pixels
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = 6  # orientation: rotate 90 CW to display
    im.save(tmp_path / "r.jpg", exif=exif, quality=95)
    out = load_image(tmp_path / "r.jpg")
    assert out.shape == (3, 40, 20)  # displayed as portrait
    assert out[:, :15].mean() > 0.9 and out[:, 25:].mean() < 0.1  # stored left half is now on top


def test_alpha_grayscale_and_16bit(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:, :4, 3] = 255  # left opaque red, right transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    a = load_image(tmp_path / "a.png")
    torch.testing.assert_close(a[:, 0, 0], torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(a[:, 0, 7], torch.tensor([1.0, 1.0, 1.0]))  # composited over white

    Image.fromarray(np.full((8, 8), 128, np.uint8), "L").save(tmp_path / "g.png")
    g = load_image(tmp_path / "g.png")
    assert g.shape == (3, 8, 8) and torch.allclose(g, torch.full_like(g, 128 / 255))

    val = 1000  # not representable in 8 bits: precision must survive
    Image.fromarray(np.full((8, 8), val, np.uint16)).save(tmp_path / "d.png")
    d = load_image(tmp_path / "d.png")
    assert float(d[0, 0, 0]) == pytest.approx(val / 65535, abs=1e-6)


def test_not_an_image(tmp_path):
    (tmp_path / "x.png").write_text("hello")
    with pytest.raises(InputError, match="x.png"):
        load_image(tmp_path / "x.png")
    with pytest.raises(InputError, match="not found"):
        load_image(tmp_path / "missing.png")


def test_fit_image_reports_centre_crop(tmp_path):
    img = torch.rand(3, 100, 300)
    out = fit_image(img, 30, 45)  # aspect 2:3 -> crop 100x150 at left 75
    assert out.image.shape == (3, 30, 45)
    assert out.crop_box == (0, 75, 100, 150)
    const = fit_image(torch.full((3, 50, 70), 0.25), 16, 16).image
    torch.testing.assert_close(const, torch.full_like(const, 0.25))
    Image.fromarray((img.permute(1, 2, 0).numpy() * 255).astype(np.uint8)).save(tmp_path / "w.png")
    assert prepare_image(tmp_path / "w.png", 30, 45).source_size == (100, 300)


def test_video_round_trip(tmp_path):
    y, x = torch.meshgrid(torch.linspace(0, 1, 36), torch.linspace(0, 1, 64), indexing="ij")
    frames = torch.stack([torch.stack([x, y, torch.full_like(x, t / 9)]) for t in range(9)])
    write_video(tmp_path / "v.mp4", frames, fps=8)
    back = read_video(tmp_path / "v.mp4")
    assert back.shape == frames.shape
    assert (back - frames).abs().mean() < 0.03
    assert not list(tmp_path.glob(".v.mp4*"))  # no temporary left behind
