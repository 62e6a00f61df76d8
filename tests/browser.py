"""Headless Chromium for the page tests: Debian's `chromium` driven by playwright (from pip), drawing
WebGL in software (SwiftShader), so the tests see what a user's browser draws without a GPU.

Pages are polled until the expected picture appears (software WebGL takes a few frames to fade splats
in) or a deadline passes; the test then asserts on the last picture.
"""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--use-gl=angle", "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader", "--disable-dev-shm-usage"]


def launch_browser():
    """(playwright, browser); skips the test when Chromium is not installed."""
    if not Path(CHROMIUM).is_file():
        pytest.skip("needs Chromium for the browser tests (Debian: apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    return pw, pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def screenshot_rgb(locator, path: Path | None = None, page=None, clip: dict | None = None) -> np.ndarray:
    """(h, w, 3) uint8 of what the element shows on screen, or of the page region `clip` (x, y, width,
    height) when given with `page` (also saved to `path` if given)."""
    from PIL import Image

    png = page.screenshot(clip=clip, timeout=60_000) if clip else locator.screenshot(timeout=60_000)
    if path is not None:
        path.write_bytes(png)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def poll(shoot: Callable[[], np.ndarray], ok: Callable[[np.ndarray], bool], timeout: float = 60.0) -> np.ndarray:
    """Take pictures until `ok(picture)` or the deadline; returns the last picture."""
    deadline = time.monotonic() + timeout
    while True:
        picture = shoot()
        if ok(picture) or time.monotonic() > deadline:
            return picture
        time.sleep(0.5)


def colour_mask(rgb: np.ndarray, colour: str) -> np.ndarray:
    """Pixels that are clearly red / blue (the colours of the test scenes), not greys or UI tints."""
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    if colour == "red":
        return (r > 150) & (g < 90) & (b < 90)
    return (b > 150) & (r < 90) & (g < 90)
