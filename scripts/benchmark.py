"""Speed and memory benchmarks, one function per area (`scripts/bench_*.py`), ratios measured in one run.

    python scripts/benchmark.py            # every area
    python scripts/benchmark.py render     # one area (render, data, metrics, lalrm, camera_video, eval, align,
                                           # stitching, make_clips)

CUDA sections run only where a CUDA device is present. The bench_* modules sit beside this file (Python puts a
script's folder first on its path). Numbers are printed, never asserted: the
machines are noisy, so speed lives here rather than in timed tests.
"""

from __future__ import annotations

import importlib
import sys
import time

# area -> (module, benchmark functions in it)
AREAS = {
    "render": ("bench_render", ["bench_render"]),
    "data": ("bench_data", ["bench_synth"]),
    "metrics": ("bench_metrics", ["bench_image_metrics", "bench_sfm"]),
    "lalrm": ("bench_lalrm", ["bench_lalrm"]),
    "camera_video": ("bench_camera_video", ["bench_camera_video", "print_camera_overhead"]),
    "eval": ("bench_eval", ["bench_eval"]),
    "align": ("bench_align", ["bench_align"]),
    "stitching": ("bench_stitching", ["bench_stitching"]),
    "make_clips": ("bench_make_clips", ["bench_make_clips"]),
}


def main(argv: list[str]) -> int:
    wanted = argv or list(AREAS)
    unknown = [a for a in wanted if a not in AREAS]
    if unknown:
        print(f"unknown area(s) {unknown}; expected {list(AREAS)}", file=sys.stderr)
        return 2
    for area in wanted:
        name, functions = AREAS[area]
        module = importlib.import_module(name)
        for fn in functions:
            print(f"\n=== {area}: {fn} ===", flush=True)
            t0 = time.perf_counter()
            getattr(module, fn)()
            print(f"[{fn}: {time.perf_counter() - t0:.1f} s]", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
