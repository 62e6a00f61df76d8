"""`make demo`: the bundled demo family on the bundled examples, on CPU in about a minute.

Runs `wonderland-generate` on
  assets/examples/heldout_scene.png  a wonderland-synth scene the models never saw (in domain), and
  assets/examples/out_of_domain.png  a procedurally drawn sunset (out of domain: expect a poor scene),
both with the held-out scene's camera path assets/trajectories/heldout_scene.json, writing
outputs/demo/<image>/ (scene.ply, scene.splat, video.mp4, flythrough.mp4, cameras.json, report.json).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [ROOT / "assets" / "examples" / "heldout_scene.png", ROOT / "assets" / "examples" / "out_of_domain.png"]
TRAJECTORY = ROOT / "assets" / "trajectories" / "heldout_scene.json"
OUT = Path("outputs") / "demo"


def main(argv: list[str] | None = None) -> int:
    from wonderland.cli.generate import default_model_dir
    from wonderland.cli.generate import main as generate
    from wonderland.pipeline.manifest import MANIFEST

    model = default_model_dir()
    if not (model / MANIFEST).is_file():
        print(f"demo: no model family at {model}.\nTrain it (about 25 minutes on 2 CPU cores) with:\n"
              f"    python scripts/train_demo_models.py --out {model.relative_to(ROOT)}", file=sys.stderr)
        return 1
    print(f"demo: model family {model} ({(model / 'MODEL_CARD.md').relative_to(ROOT)} says what it can do)")
    for image in EXAMPLES:
        print(f"demo: {image.relative_to(ROOT)} + {TRAJECTORY.relative_to(ROOT)}")
    t0 = time.perf_counter()
    status = generate([*map(str, EXAMPLES), "--trajectory", str(TRAJECTORY), "--out", str(OUT), *(argv or [])])
    if status == 0:
        print(f"demo: done in {time.perf_counter() - t0:.0f} s. Outputs:")
        for image in EXAMPLES:
            out = OUT / image.stem
            print(f"  {out}/video.mp4 (generated video), {out}/flythrough.mp4 (the Gaussians rendered along "
                  f"the path), {out}/scene.ply and scene.splat (3D Gaussians)")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
