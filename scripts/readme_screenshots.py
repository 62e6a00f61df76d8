"""The README's screenshots, taken from the real pages in headless Chromium (software WebGL).

    python scripts/readme_screenshots.py [--out docs/screenshots] [--only viewer|app] [--wait SECONDS]

1. `wonderland-generate` on assets/examples/heldout_scene.png with its held-out camera path (the bundled
   family), into a temporary folder;
2. `wonderland-view`'s page on that result (scene.ply, cameras.json, video.mp4) -> viewer.png;
3. `wonderland-app`'s page: upload the image and the trajectory file, Generate, wait for every output
   -> app.png.
Software WebGL draws the 75k-splat scene slowly (tens of seconds per frame on 2 cores), hence the long
waits. Pictures are saved as 256-colour PNGs to keep the repository small.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "assets" / "examples" / "heldout_scene.png"
TRAJECTORY = ROOT / "assets" / "trajectories" / "heldout_scene.json"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--use-gl=angle", "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader"]


def save_small(png: bytes, path: Path, width: int) -> None:
    from PIL import Image

    im = Image.open(io.BytesIO(png)).convert("RGB")
    im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


def viewer_shot(browser, result: Path, out: Path, wait_s: float) -> None:
    import viser

    from wonderland.gaussians import load_scene
    from wonderland.viewer.scene import build_scene, load_cameras

    cams, frames = load_cameras(result / "cameras.json")
    with contextlib.redirect_stdout(io.StringIO()):
        server = viser.ViserServer(host="127.0.0.1", port=0, verbose=False)
    try:
        build_scene(server, load_scene(result / "scene.ply"), cams, frames)
        page = browser.new_page(viewport={"width": 1100, "height": 700})
        page.goto(f"http://127.0.0.1:{server.get_port()}")
        page.locator("canvas").first.wait_for(timeout=60_000)
        page.wait_for_timeout(wait_s * 1000)  # splats fade in over many software-rendered frames
        # viser's "software WebGL" notice is true here and never shown on a GPU: keep it out of the README
        page.add_style_tag(content=".mantine-Notification-root { display: none !important; }")
        save_small(page.screenshot(timeout=300_000), out / "viewer.png", 900)
    finally:
        server.stop()


def app_shot(browser, out: Path, wait_s: float) -> None:
    from wonderland.app.cli import launch
    from wonderland.app.jobs import AppJobs
    from wonderland.app.ui import build_page
    from wonderland.cli.generate import default_model_dir
    from wonderland.pipeline import WonderlandPipeline

    pipe = WonderlandPipeline.from_pretrained(default_model_dir())
    pipe.set_progress_bar(False)
    with tempfile.TemporaryDirectory() as tmp:
        gradio_page, url = launch(build_page(AppJobs(pipe, Path(tmp))), "127.0.0.1", 0, Path(tmp), block=False)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1500})
            page.goto(url)
            files = page.locator("input[type=file]")
            files.nth(0).set_input_files(str(IMAGE))
            files.nth(1).set_input_files(str(TRAJECTORY))
            page.get_by_role("button", name="Generate").click()
            page.get_by_text("scene.ply").first.wait_for(timeout=600_000)
            page.wait_for_timeout(wait_s * 1000)
            save_small(page.screenshot(full_page=True, timeout=300_000), out / "app.png", 1000)
        finally:
            gradio_page.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--wait", type=float, default=60.0, help="seconds to let software WebGL draw")
    p.add_argument("--only", choices=("viewer", "app"), default=None)
    args = p.parse_args()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from playwright.sync_api import sync_playwright

    from wonderland.cli.generate import main as generate

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        result = Path(tmp) / "heldout_scene"
        assert generate([str(IMAGE), "--trajectory", str(TRAJECTORY), "--out", str(result), "--quiet"]) == 0
        browser = pw.chromium.launch(executable_path=args.chromium, args=ARGS)
        try:
            if args.only in (None, "viewer"):
                viewer_shot(browser, result, args.out, args.wait)
            if args.only in (None, "app"):
                app_shot(browser, args.out, args.wait)
        finally:
            browser.close()
    print(f"done in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
