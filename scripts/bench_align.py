"""Alignment benchmark: one VIST3A step (diffusion loss + DRTune rollout + VAE decode + LaLRM + render +
backward + AdamW) on the tiny family, CPU: seconds per step and the peak RSS rise over the loaded models (and any
earlier measurement of the process), at 9 and 49 frames.
On CUDA with a full family in `WONDERLAND_ALIGN_FAMILY` (and clips in `WONDERLAND_ALIGN_DATA`), the same step
at full size in bf16 with its peak memory.

Run: `python scripts/bench_align.py` (wired into scripts/benchmark.py as the `align` area). Numbers are
printed, never asserted.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

import torch


def _step_time(family: Path, clips: Path, device: str, overrides: list[str], steps: int = 2) -> tuple[float, float]:
    from camera_video.data import collate
    from wonderland.align.config import to_schema
    from wonderland.align.objective import make_loss
    from wonderland.align.train import Parts, datasets
    from wonderland.testing import CONFIGS, compose

    cfg = to_schema(compose(CONFIGS / "align", [f"model.family={family}", f"data.root={clips}", *overrides]))
    parts = Parts(cfg, torch.device(device))
    params = [p for p in parts.transformer.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    batch = collate([datasets(cfg, parts.manifest)[0][0]])
    loss = make_loss(cfg, parts, None, {}, torch.device(device))
    autocast = torch.autocast(device.split(":")[0], torch.bfloat16, enabled=device != "cpu")

    def step(i: int):
        with autocast:
            terms = loss(parts.transformer, batch, torch.Generator().manual_seed(i))
        terms["loss"].backward()
        opt.step()
        opt.zero_grad()

    # ru_maxrss only grows: read before the warm-up step so that the step's own activations count (it is then
    # the rise over the loaded models and every earlier measurement of this process)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    step(0)
    if device != "cpu":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for i in range(steps):
        step(i + 1)
    seconds = (time.perf_counter() - t0) / steps
    peak = torch.cuda.max_memory_allocated() / 2**20 if device != "cpu" else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    return seconds, peak


def bench_align() -> None:
    from wonderland.testing import build_tiny_family, write_synth

    with tempfile.TemporaryDirectory() as tmp:
        for frames in (9, 49):
            family = build_tiny_family(Path(tmp) / f"family{frames}", num_frames=frames)
            clips = write_synth(Path(tmp) / f"clips{frames}", 2, num_frames=frames)
            seconds, peak = _step_time(family, clips, "cpu", ["size=tiny", "rollout.min_steps=4",
                                                               "rollout.max_steps=4", "data.val_scenes=0"])
            print(f"tiny family, {frames} frames, 4 rollout steps (2 with gradient), CPU: {seconds:.2f} s/step, "
                  f"peak RSS +{peak:.0f} MiB")
    family, clips = os.environ.get("WONDERLAND_ALIGN_FAMILY"), os.environ.get("WONDERLAND_ALIGN_DATA")
    if not torch.cuda.is_available() or not family or not clips:
        print("full size on CUDA: skipped (needs a GPU, WONDERLAND_ALIGN_FAMILY and WONDERLAND_ALIGN_DATA)")
        return
    seconds, peak = _step_time(Path(family), Path(clips), "cuda", ["reward.lpips=0", "rollout.min_steps=10",
                                                                   "rollout.max_steps=10"])
    print(f"full family, 10 rollout steps (3 with gradient), CUDA bf16: {seconds:.2f} s/step, peak {peak:.0f} MiB")


if __name__ == "__main__":
    bench_align()
