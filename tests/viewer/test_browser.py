"""A real browser opens the viewer (live and exported) and draws the scene, the right way up.

The scene is red Gaussians above blue ones in camera 0's image, in a world rolled 180 degrees, so a
picture with red pixels above blue pixels means: the splats are drawn (not the background alone), from
camera 0's point of view, with camera 0's up. Screenshots go to the test's tmp folder.
"""

import numpy as np
import pytest
import viser

from wonderland.gaussians import save_ply
from wonderland.trajectories import save_trajectory
from wonderland.viewer.cli import main
from wonderland.viewer.scene import build_scene

from ..browser import colour_mask, poll, screenshot_rgb
from .scenes import red_over_blue, rolled_orbit

MIN_FRACTION = 0.01  # each colour covers ~8% of the 800 x 600 view when drawn; the UI has neither


def red_above_blue(rgb: np.ndarray) -> bool:
    red, blue = colour_mask(rgb, "red"), colour_mask(rgb, "blue")
    if red.mean() < MIN_FRACTION or blue.mean() < MIN_FRACTION:
        return False
    rows = np.arange(rgb.shape[0])[:, None]
    return (rows * red).sum() / red.sum() < (rows * blue).sum() / blue.sum()


def check_page(browser, url: str, shot) -> np.ndarray:
    page = browser.new_page(viewport={"width": 800, "height": 600})
    try:
        page.goto(url)
        canvas = page.locator("canvas").first
        canvas.wait_for(timeout=30_000)
        return poll(lambda: screenshot_rgb(canvas, shot), red_above_blue)
    finally:
        page.close()


@pytest.fixture(scope="module")
def scene():
    cams = rolled_orbit(7)
    return red_over_blue(cams), cams


def test_live_viewer_draws_the_scene(browser, scene, tmp_path):
    g, cams = scene
    server = viser.ViserServer(host="127.0.0.1", port=0, verbose=False)
    try:
        build_scene(server, g, cams)
        rgb = check_page(browser, f"http://127.0.0.1:{server.get_port()}", tmp_path / "viewer.png")
    finally:
        server.stop()
    assert colour_mask(rgb, "red").mean() > MIN_FRACTION and colour_mask(rgb, "blue").mean() > MIN_FRACTION
    assert red_above_blue(rgb), "the scene is drawn upside down"


def test_exported_page_draws_the_scene(browser, scene, tmp_path):
    g, cams = scene
    save_ply(tmp_path / "scene.ply", g)
    save_trajectory(tmp_path / "cameras.json", cams)
    assert main([str(tmp_path / "scene.ply"), "--export", str(tmp_path / "scene.html")]) == 0
    rgb = check_page(browser, (tmp_path / "scene.html").as_uri(), tmp_path / "export.png")
    assert red_above_blue(rgb)
