"""`wonderland-synth`: write a synthetic dataset in the RealEstate10K layout (a) or the DL3DV layout."""

from __future__ import annotations

import argparse
import sys
import time

from .synth import FORMATS, write_synthetic_dataset


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="wonderland-synth", description=__doc__)
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--num-scenes", type=int, default=100)
    p.add_argument("--frames", type=int, default=64, help="frames per scene")
    p.add_argument("--height", type=int, default=64)
    p.add_argument("--width", type=int, default=96)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--format", choices=FORMATS, default="re10k")
    p.add_argument("--supersample", type=int, default=1, help="rays per pixel side, box-filtered (anti-aliasing)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    a = p.parse_args(argv)
    for name in ("num_scenes", "frames", "height", "width", "supersample"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    start = time.perf_counter()
    keys = write_synthetic_dataset(a.out, a.num_scenes, a.frames, a.height, a.width, a.seed, a.format, a.workers,
                                  a.supersample)
    print(f"wrote {len(keys)} {a.format} scenes of {a.frames} frames at {a.height}x{a.width} to {a.out} "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
