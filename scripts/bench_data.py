"""Data-layer benchmarks (wired into scripts/benchmark.py by the lead)."""

from __future__ import annotations

import tempfile
import time


def bench_synth(num_scenes: int = 100, num_frames: int = 64, height: int = 64, width: int = 96,
                workers: int = 2) -> dict:
    """Write the issue's reference synthetic dataset (100 scenes x 64 frames at 64x96) in both layouts on
    `workers` processes; the budget is 60 s. Also times reading one clip back through the RE10K reader."""
    from wonderland.data import open_scenes
    from wonderland.data.synth import write_synthetic_dataset

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("re10k", "dl3dv"):
            start = time.perf_counter()
            write_synthetic_dataset(f"{tmp}/{fmt}", num_scenes, num_frames, height, width, seed=0, format=fmt,
                                    workers=workers)
            out[f"write_{fmt}_s"] = time.perf_counter() - start
        scenes = open_scenes("re10k", f"{tmp}/re10k")
        start = time.perf_counter()
        for i in range(10):
            scenes[i].load_frames(range(49), height, width)
        out["read_clip_s"] = (time.perf_counter() - start) / 10
    for fmt in ("re10k", "dl3dv"):
        print(f"synth {fmt}: {num_scenes} scenes x {num_frames} frames at {height}x{width} on {workers} workers: "
              f"{out[f'write_{fmt}_s']:.1f} s ({out[f'write_{fmt}_s'] / 60:.2f} of the 60 s budget)")
    print(f"read one 49-frame clip: {out['read_clip_s'] * 1000:.0f} ms")
    return out


if __name__ == "__main__":
    bench_synth()
