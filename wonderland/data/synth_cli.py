"""`wonderland-synth`: write a synthetic dataset in the RealEstate10K layout (a) or the DL3DV layout."""

from __future__ import annotations

import sys
import time

from ..checks import check_output_dir, int_range, positive_int, seed
from ..cli_args import ArgumentParser
from ..errors import InputError
from .synth import FORMATS, write_synthetic_dataset


def main(argv: list[str] | None = None) -> int:
    p = ArgumentParser(prog="wonderland-synth", description=__doc__)
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--num-scenes", type=positive_int, default=100)
    p.add_argument("--frames", type=positive_int, default=64, help="frames per scene")
    p.add_argument("--height", type=positive_int, default=64)
    p.add_argument("--width", type=positive_int, default=96)
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--format", choices=FORMATS, default="re10k")
    p.add_argument("--supersample", type=int_range(1, 16), default=1,
                   help="rays per pixel side (1-16), box-filtered (anti-aliasing)")
    p.add_argument("--workers", type=positive_int, default=None, help="processes (default: all cores)")
    a = p.parse_args(argv)
    try:
        check_output_dir(a.out, "--out")
    except InputError as e:
        p.error(str(e))
    start = time.perf_counter()
    keys = write_synthetic_dataset(a.out, a.num_scenes, a.frames, a.height, a.width, a.seed, a.format, a.workers,
                                  a.supersample)
    print(f"wrote {len(keys)} {a.format} scenes of {a.frames} frames at {a.height}x{a.width} to {a.out} "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
