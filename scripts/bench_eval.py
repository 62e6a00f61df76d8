"""`wonderland-eval` cost per clip and task (wired into scripts/benchmark.py by the lead).

Runs `evaluate` on the tiny test family (32x48, 49 frames, random weights: timing only, never a score)
over two synthetic RE10K scenes, one clip per task, and prints seconds per clip with the protocol's
clip counts extrapolated (the family is `wonderland.testing.build_tiny_family`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path


def bench_eval(tasks: tuple[str, ...] = ("video", "3d", "recon"), steps: int = 2) -> dict:
    from hydra import compose, initialize_config_dir

    from wonderland.cli.evaluate import CONFIG_DIR, evaluate
    from wonderland.data.synth import write_synthetic_dataset
    from wonderland.eval import read_results
    from wonderland.testing import TINY_SIZE, build_tiny_family

    H, W = TINY_SIZE
    protocol = {"video": 300 + 300 + 100, "3d": 100 + 100 + 50, "recon": 100 + 50}
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        family = build_tiny_family(Path(tmp) / "family")
        data = Path(tmp) / "re10k"
        write_synthetic_dataset(data, 2, num_frames=56, height=H, width=W, workers=1)
        for task in tasks:
            with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
                cfg = compose("config", overrides=[
                    f"task={task}", f"model_dir={family}", f"dataset.root={data}", f"output_dir={tmp}/{task}",
                    "dataset.strides=[1]", "num_clips=1", f"num_inference_steps={steps}", "device=cpu"])
            evaluate(cfg)
            (record,) = read_results(f"{tmp}/{task}")
            out[task] = record["seconds"]
            print(f"eval {task:>5}: {record['seconds']:6.1f} s per {H}x{W} clip (tiny family, {steps} steps, CPU); "
                  f"the protocol's {protocol[task]} clips: {protocol[task] * record['seconds'] / 60:.0f} min")
    return out


if __name__ == "__main__":
    bench_eval()
