"""Speed and memory benchmarks, one function per area (`scripts/bench_*.py`), ratios measured in one run.

    python scripts/benchmark.py            # every area
    python scripts/benchmark.py render     # one area (render, data, lalrm, camera_video)

CUDA sections run only where a CUDA device is present. Numbers are printed, never asserted: the
machines are noisy, so speed lives here rather than in timed tests.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

AREAS = {"render": "bench_render", "data": "bench_data", "lalrm": "bench_lalrm",
         "camera_video": "bench_camera_video"}


def main(argv: list[str]) -> int:
    wanted = argv or list(AREAS)
    unknown = [a for a in wanted if a not in AREAS]
    if unknown:
        print(f"unknown area(s) {unknown}; expected {list(AREAS)}", file=sys.stderr)
        return 2
    for area in wanted:
        module = importlib.import_module(AREAS[area])
        fn = getattr(module, f"bench_{area}", None) or getattr(module, "main")
        print(f"\n=== {area} ===", flush=True)
        t0 = time.perf_counter()
        fn()
        print(f"[{area}: {time.perf_counter() - t0:.1f} s]", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
