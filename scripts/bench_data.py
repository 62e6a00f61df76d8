"""Data-layer benchmarks (wired into scripts/benchmark.py by the lead)."""

from __future__ import annotations

import resource
import tempfile
import time


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and its finished children (the writer's pool)."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def bench_synth(num_scenes: int = 100, num_frames: int = 64, height: int = 64, width: int = 96,
                workers: int = 2) -> dict:
    """Write the issue's reference synthetic dataset (100 scenes x 64 frames at 64x96) in both layouts on
    `workers` processes against a 60 s budget. CPU seconds are printed too: on a shared machine the wall
    time depends on the load, CPU / workers is what an idle machine would take. Also times reading a clip."""
    from wonderland.data import open_scenes
    from wonderland.data.synth import write_synthetic_dataset

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("re10k", "dl3dv"):
            wall, cpu = time.perf_counter(), _cpu_s()
            write_synthetic_dataset(f"{tmp}/{fmt}", num_scenes, num_frames, height, width, seed=0, format=fmt,
                                    workers=workers)
            out[f"write_{fmt}_s"], out[f"write_{fmt}_cpu_s"] = time.perf_counter() - wall, _cpu_s() - cpu
        scenes = open_scenes("re10k", f"{tmp}/re10k")
        start = time.perf_counter()
        for i in range(10):
            scenes[i].load_frames(range(49), height, width)
        out["read_clip_s"] = (time.perf_counter() - start) / 10
    for fmt in ("re10k", "dl3dv"):
        wall, cpu = out[f"write_{fmt}_s"], out[f"write_{fmt}_cpu_s"]
        print(f"synth {fmt}: {num_scenes} scenes x {num_frames} frames at {height}x{width}, {workers} workers: "
              f"wall {wall:.1f} s ({wall / 60:.2f} of the 60 s budget), CPU {cpu:.1f} s "
              f"(CPU / workers = {cpu / workers / 60:.2f} of the budget)")
    print(f"read one 49-frame clip at {height}x{width} through the RE10K reader: {out['read_clip_s'] * 1000:.0f} ms")
    return out


if __name__ == "__main__":
    bench_synth()
