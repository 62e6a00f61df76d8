"""`make demo`: the bundled demo family on the bundled examples, on CPU in about a minute.

Runs `wonderland-generate` on
  assets/examples/heldout_scene.png  a wonderland-synth scene the models never saw (in domain), and
  assets/examples/out_of_domain.png  a procedurally drawn sunset (out of domain: expect a poor scene),
both with the held-out scene's camera path assets/trajectories/heldout_scene.json, writing
outputs/demo/<image>/ (scene.ply, scene.splat, video.mp4, flythrough.mp4, cameras.json, report.json).

    python scripts/demo.py [--strips DIR] [wonderland-generate options]

--strips DIR also writes DIR/demo_<image>.png per example: frames 0, 12, 24, 36, 48 of the generated video
(top row) and of the fly-through (bottom row), 4x nearest-upscaled (the model card's demo_*.png).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [ROOT / "assets" / "examples" / "heldout_scene.png", ROOT / "assets" / "examples" / "out_of_domain.png"]
TRAJECTORY = ROOT / "assets" / "trajectories" / "heldout_scene.json"
OUT = Path("outputs") / "demo"


def write_strips(dest: Path) -> None:
    """One PNG per example from the videos just written: generated video over fly-through."""
    from wonderland.demo.common import save_strip
    from wonderland.video import read_video

    for image in EXAMPLES:
        out = OUT / image.stem
        save_strip(dest / f"demo_{image.stem}.png", [read_video(out / "video.mp4"), read_video(out / "flythrough.mp4")])
        print(f"demo: wrote {dest / f'demo_{image.stem}.png'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(add_help=False)  # --help goes through to wonderland-generate
    parser.add_argument("--strips", type=Path, help="also write the model card's demo_<image>.png strips here")
    args, passthrough = parser.parse_known_args(argv)  # the rest goes to wonderland-generate
    from wonderland.cli.generate import default_model_dir
    from wonderland.cli.generate import main as generate
    from wonderland.pipeline.manifest import MANIFEST

    model = default_model_dir()
    if not (model / MANIFEST).is_file():
        print(f"demo: no model family at {model}.\nTrain it (about 36 minutes on 2 CPU cores; `make demo-models`"
              " adds the fine-tuning steps, 1.3 h in all) with:\n"
              f"    python scripts/train_demo_models.py --out {model.relative_to(ROOT)}", file=sys.stderr)
        return 1
    print(f"demo: model family {model} ({(model / 'MODEL_CARD.md').relative_to(ROOT)} says what it can do)")
    for image in EXAMPLES:
        print(f"demo: {image.relative_to(ROOT)} + {TRAJECTORY.relative_to(ROOT)}")
    t0 = time.perf_counter()
    status = generate([*map(str, EXAMPLES), "--trajectory", str(TRAJECTORY), "--out", str(OUT), *passthrough])
    if status == 0:
        print(f"demo: done in {time.perf_counter() - t0:.0f} s. Outputs:")
        for image in EXAMPLES:
            out = OUT / image.stem
            print(f"  {out}/video.mp4 (generated video), {out}/flythrough.mp4 (the Gaussians rendered along "
                  f"the path), {out}/scene.ply and scene.splat (3D Gaussians)")
        if args.strips is not None:
            write_strips(args.strips)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
