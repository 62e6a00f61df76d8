"""Stage-2 clip making (`wonderland-make-clips`): clips per minute with the bundled demo family on CPU (2 threads by
default), and on a CUDA device when there is one (the bundled family, and a full-size family named by
WONDERLAND_BENCH_FAMILY=<model dir>, whose weights this repository does not ship).

Run: `python scripts/bench_make_clips.py` (wired into scripts/benchmark.py as the `make_clips` area). The clips
are the real product path (`prepare` + `run`: generate_video with the family's default steps, then the atomic
clip writer); the model load is reported apart. CPU seconds are printed beside wall seconds: on a shared machine
the wall time depends on the load, CPU seconds / threads is what an idle machine would take.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from wonderland.cli.generate import default_model_dir
from wonderland.pipeline import WonderlandPipeline, read_manifest
from wonderland.pipeline.make_clips import prepare, run
from wonderland.trajectories import make_preset, save_trajectory


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _inputs(root: Path, images: int, paths: int) -> None:
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    for i in range(images):
        Image.fromarray(rng.integers(0, 255, (96, 144, 3), dtype=np.uint8)).save(root / "images" / f"{i}.png")
    for name in ("orbit", "dolly_in", "pan_left", "spiral")[:paths]:
        save_trajectory(root / "paths" / f"{name}.json", make_preset(name, 49, 480, 720))


def measure(model_dir: Path, device: str, num_clips: int, steps: int | None = None) -> dict:
    """Make `num_clips` clips (one per image) -> load seconds, clips per minute (wall and CPU), seconds per clip."""
    manifest = read_manifest(model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        _inputs(Path(tmp), num_clips, 2)
        plan = prepare(Path(tmp) / "images", Path(tmp) / "paths", Path(tmp) / "out", manifest, steps=steps)
        t0 = time.perf_counter()
        pipe = WonderlandPipeline.from_pretrained(model_dir, device=device,
                                                  dtype=torch.bfloat16 if device == "cuda" else torch.float32)
        pipe.set_progress_bar(False)
        load = time.perf_counter() - t0
        wall, cpu = time.perf_counter(), _cpu_s()
        summary = run(plan, pipe, progress=False)
        wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
        size = sum(f.stat().st_size for f in (Path(tmp) / "out").rglob("*") if f.is_file()) / summary["written"]
    return {"family": manifest.name, "device": device, "frames": f"{manifest.num_frames} x {manifest.height} x "
            f"{manifest.width}", "steps": plan.settings["steps"], "clips": summary["written"], "load_s": load,
            "s_per_clip": wall / summary["written"], "clips_per_min": 60 * summary["written"] / wall,
            "cpu_s_per_clip": cpu / summary["written"], "mb_per_clip": size / 2**20}


def _show(r: dict, threads: int | None = None) -> None:
    extra = ""
    if threads:
        idle = 60 / (r["cpu_s_per_clip"] / threads)
        extra = f", CPU {r['cpu_s_per_clip']:.1f} s/clip (idle {threads}-thread machine: ~{idle:.1f} clips/min)"
    print(f"{r['family']} on {r['device']} ({r['frames']}, {r['steps']} steps): {r['clips_per_min']:.2f} clips/min "
          f"({r['s_per_clip']:.1f} s/clip over {r['clips']} clips{extra}); load {r['load_s']:.1f} s; "
          f"{r['mb_per_clip']:.2f} MB/clip on disk", flush=True)


def bench_make_clips(threads: int = 2, num_clips: int = 4) -> dict:
    torch.set_num_threads(threads)
    results = {"cpu": measure(default_model_dir(), "cpu", num_clips)}
    _show(results["cpu"], threads)
    if not torch.cuda.is_available():
        print("make_clips: no CUDA device, GPU section skipped")
        return results
    results["cuda_demo"] = measure(default_model_dir(), "cuda", num_clips)
    _show(results["cuda_demo"])
    full = os.environ.get("WONDERLAND_BENCH_FAMILY")
    if full:
        results["cuda_full"] = measure(Path(full), "cuda", 2)
        _show(results["cuda_full"])
    else:
        print("make_clips: set WONDERLAND_BENCH_FAMILY=<model dir> to time a full-size family on CUDA")
    return results


if __name__ == "__main__":
    bench_make_clips()
