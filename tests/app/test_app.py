"""`wonderland-app` end to end: the Gradio page on 127.0.0.1 with the bundled family, driven through
`gradio_client` (the API a script would use) and through a real browser (what a user sees)."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from wonderland.app.cli import launch
from wonderland.app.jobs import AppJobs
from wonderland.app.ui import OUTPUT_ORDER, build_page
from wonderland.cli.generate import default_model_dir
from wonderland.gaussians import load_ply, load_splat
from wonderland.pipeline import WonderlandPipeline
from wonderland.trajectories import load_trajectory
from wonderland.trajectories.cli import PRESET_PARAMS
from wonderland.video import read_video

from ..browser import screenshot_rgb

EXAMPLE = Path(__file__).resolve().parents[2] / "assets" / "examples" / "heldout_scene.png"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    out = tmp_path_factory.mktemp("app_out")
    pipe = WonderlandPipeline.from_pretrained(default_model_dir())
    pipe.set_progress_bar(False)
    page, url = launch(build_page(AppJobs(pipe, out)), "127.0.0.1", 0, out, block=False)
    assert url.startswith("http://127.0.0.1:")
    yield url, out, pipe.manifest
    page.close()


@pytest.fixture(scope="module")
def client(app):
    return Client(app[0], verbose=False)


def expected_gaussians(manifest) -> int:
    """One Gaussian per head-output pixel per frame: the LaLRM's head upsamples each token (8 x patch_size
    pixels of video) by head_stride."""
    cfg = json.loads((manifest.lalrm / "config.json").read_text())
    per_side = cfg["head_stride"] / (8 * cfg["patch_size"])
    return int(manifest.num_frames * manifest.height * per_side * manifest.width * per_side)


def generate_args(image, preset="orbit", fov=50, trajectory=None, seed=0, steps=1, min_opacity=0.0, **params):
    return [image, preset, fov, trajectory, seed, steps, min_opacity, *(params.get(k) for k in PRESET_PARAMS)]


def test_generate_through_the_api(app, client):
    _, out_root, manifest = app
    path_png, video, flythrough, scene, files, summary = client.predict(
        *generate_args(handle_file(EXAMPLE), "orbit", degrees=30, seed=3), api_name="/generate")
    n = expected_gaussians(manifest)
    assert n == 49 * 32 * 48  # the bundled family: one Gaussian per pixel of every frame
    for name in (video, flythrough):
        assert read_video(name).shape == (manifest.num_frames, 3, manifest.height, manifest.width)
    assert load_splat(scene).num == n
    by_name = {Path(f).name: f for f in files}
    assert list(by_name) == list(OUTPUT_ORDER)  # every output offered for download
    assert load_ply(by_name["scene.ply"]).num == n
    cams = load_trajectory(by_name["cameras.json"])
    assert len(cams) == manifest.num_frames
    report = json.loads(Path(by_name["report.json"]).read_text())
    assert report["settings"]["seed"] == 3 and report["settings"]["trajectory"] == "preset:orbit"
    assert f"{n:,} Gaussians" in summary
    from PIL import Image

    assert Image.open(path_png).size[0] > 100  # the wonderland-trajectory show picture
    # The results are also kept on the server, one folder per request.
    assert len([d for d in out_root.iterdir() if (d / "scene.ply").is_file()]) >= 1


def test_bad_image_is_a_message_not_a_traceback(app, client, tmp_path):
    _, out_root, _ = app
    before = set(out_root.iterdir())
    truncated = tmp_path / "photo.png"
    truncated.write_bytes(EXAMPLE.read_bytes()[:1000])  # a valid PNG header, then nothing
    with pytest.raises(AppError) as e:
        client.predict(*generate_args(handle_file(truncated)), api_name="/generate")
    assert "photo.png: not a readable image" in str(e.value) and "Traceback" not in str(e.value)
    assert set(out_root.iterdir()) == before  # nothing was written


def test_bad_trajectory_file_and_preset_values_are_messages(client, tmp_path):
    bad = tmp_path / "path.json"
    bad.write_text('{"format": "wonderland.trajectory", "version": 1, "frames": [')
    with pytest.raises(AppError, match="path.json: malformed JSON"):
        client.predict(*generate_args(handle_file(EXAMPLE), trajectory=handle_file(bad)), api_name="/generate")
    with pytest.raises(AppError, match="path.json: malformed JSON"):
        client.predict("orbit", 50, handle_file(bad), *[None] * len(PRESET_PARAMS), api_name="/preview")
    with pytest.raises(AppError, match="less than minimum value 10"):  # Gradio checks the slider's range
        client.predict("orbit", 0, None, *[None] * len(PRESET_PARAMS), api_name="/preview")


def test_preview_draws_the_chosen_path(client):
    from PIL import Image

    a = np.asarray(Image.open(client.predict("orbit", 50, None, *[None] * len(PRESET_PARAMS),
                                             api_name="/preview")).convert("L"), dtype=float)
    b = np.asarray(Image.open(client.predict("dolly_in", 50, None, *[None] * len(PRESET_PARAMS),
                                             api_name="/preview")).convert("L"), dtype=float)
    assert a.shape == b.shape and np.abs(a - b).mean() > 1.0  # different paths, different pictures


def test_the_page_in_a_browser_shows_the_scene(app, browser, tmp_path):
    """Upload, generate, and see the 3D view draw the scene. Its canvas has a plain background, so a
    drawn scene is what changes when the camera is dragged round: two pictures from two viewpoints must
    differ over much of the view (a background alone, or a failed load, gives the same picture twice)."""
    url, _, _ = app
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    try:
        page.goto(url)
        page.locator("input[type=file]").first.set_input_files(str(EXAMPLE))
        for label, value in (("number input for Denoising steps", "1"),
                             ("number input for Export: drop Gaussians", "0.3")):  # a few thousand splats:
            box = page.locator(f"input[aria-label^='{label}']")                  # quick in software WebGL
            box.fill(value)
            box.press("Enter")
        page.get_by_role("button", name="Generate").click()
        canvas = page.locator("canvas").first
        canvas.wait_for(timeout=120_000)
        page.get_by_text("scene.ply").first.wait_for(timeout=30_000)  # the downloads list
        canvas.scroll_into_view_if_needed()
        page.wait_for_timeout(2000)
        box = canvas.bounding_box()
        before = screenshot_rgb(canvas, tmp_path / "model3d.png", page, box).astype(int)
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + box["width"] / 4, y, steps=8)  # orbit the camera a quarter-view to the side
        page.mouse.up()
        page.wait_for_timeout(1500)
        after = screenshot_rgb(canvas, tmp_path / "model3d_turned.png", page, box).astype(int)
        page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    finally:
        page.close()
    changed = (np.abs(before - after).sum(-1) > 30).mean()
    assert changed > 0.1, f"only {changed:.0%} of the 3D view changed when the camera moved"
