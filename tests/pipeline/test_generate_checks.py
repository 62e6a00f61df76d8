"""The option values issue 27 found accepted by `wonderland-generate`, each refused (one line naming the
option, exit status 2, nothing written, no model loaded), and the tiny image it found upscaled silently,
now accepted with a warning that says by how much."""

import re
import warnings

import numpy as np
import pytest
from PIL import Image

from wonderland.cli.generate import main as generate
from wonderland.pipeline import WonderlandPipeline

from .conftest import run


class Loaded(Exception):
    """Raised instead of loading the model: the input got past every check."""


@pytest.fixture
def no_model(monkeypatch):
    def loaded(*args, **kwargs):
        raise Loaded

    monkeypatch.setattr(WonderlandPipeline, "from_pretrained", loaded)


@pytest.fixture
def photo(tmp_path):
    Image.fromarray(np.full((60, 90, 3), 128, np.uint8)).save(tmp_path / "photo.png")
    return tmp_path / "photo.png"



@pytest.mark.parametrize(("options", "line"), [
    (["--steps", "0"], "--steps 0: expected an integer >= 1"),
    (["--steps", "-3"], "--steps -3: expected an integer >= 1"),
    (["--guidance", "nan"], "--guidance nan: expected a finite number >= 0"),
    (["--preset", "spiral", "--degrees", "90"],
     "--degrees 90.0: preset spiral takes --radius, --depth, --turns, --forward, --speed"),
    (["--trajectory", "orbit.json", "--degrees", "90"],
     "--degrees 90.0: is a preset parameter; give --preset NAME too"),
    (["--preset", "zoom_out", "--factor", "0"], "--factor 0.0: expected a finite number > 0"),
])
def test_issue_27_values_are_refused_before_anything(photo, tmp_path, options, line, capsys, no_model, monkeypatch):
    from wonderland.trajectories import make_preset, save_trajectory

    monkeypatch.chdir(tmp_path)
    save_trajectory("orbit.json", make_preset("orbit", 5))
    argv = [str(photo), "--out", str(tmp_path / "out"), *options]
    if "--preset" not in options and "--trajectory" not in options:
        argv += ["--preset", "orbit"]
    assert run(argv, capsys) == (2, [f"wonderland-generate: error: {line}"])
    assert not (tmp_path / "out").exists()


def test_tiny_image_is_accepted_with_the_upscale_factor(tmp_path, no_model):
    Image.new("RGB", (1, 1), (200, 100, 50)).save(tmp_path / "dot.png")
    # The bundled family is 32 x 48: a 1 x 1 crop is enlarged 48 times along the width.
    message = (f"{tmp_path / 'dot.png'} is 1 x 1 pixels: its centre crop is upscaled 48.0x to the model's 32 x 48; "
               "the scene will be blurry")
    with pytest.raises(Loaded), pytest.warns(UserWarning, match=re.escape(message)):  # past every check
        generate([str(tmp_path / "dot.png"), "--preset", "orbit", "--out", str(tmp_path / "out")])


def test_image_upscaled_2x_gives_no_warning(tmp_path, no_model):
    Image.new("RGB", (24, 16)).save(tmp_path / "half.png")  # exactly half the family's 32 x 48: the threshold
    with warnings.catch_warnings(), pytest.raises(Loaded):
        warnings.simplefilter("error", UserWarning)  # a warning fails the test
        generate([str(tmp_path / "half.png"), "--preset", "orbit", "--out", str(tmp_path / "out")])


def test_trajectory_auto_is_refused_by_a_family_without_a_pose_stream(photo, tmp_path, capsys, no_model,
                                                                      tiny_family):
    out = tmp_path / "out"
    assert run([str(photo), "--trajectory", "auto", "--model", str(tiny_family), "--out", str(out)], capsys) == (2, [
        "wonderland-generate: error: --trajectory auto: the model family 'tiny-test' has no pose stream to "
        "propose a camera path; give --trajectory FILE or --preset NAME"])
    assert not out.exists()
    code, err = run([str(photo), "--trajectory", str(tmp_path / "auto.json"), "--out", str(out)], capsys)
    assert code == 2 and "auto.json" in err[-1]  # any other value is still a file that must exist
