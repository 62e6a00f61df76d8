"""One run log: scalars to accelerate's trackers (TensorBoard by default) and to `<output_dir>/log.jsonl`,
and a tqdm progress bar with the ETA. Only the main process writes; every process may call it."""

from __future__ import annotations

import json
import math
from pathlib import Path


def flat_hparams(config: dict, prefix: str = "") -> dict:
    """A nested config -> {"a.b": scalar} that TensorBoard's hparams accept (None and lists as text)."""
    out = {}
    for k, v in config.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out |= flat_hparams(v, key + ".")
        elif isinstance(v, (bool, int, float, str)):
            out[key] = v
        else:
            out[key] = json.dumps(v) if isinstance(v, (list, tuple)) else str(v)
    return out


class RunLog:
    def __init__(self, accelerator, output_dir: str | Path, name: str, total: int, start: int = 0,
                 progress: bool = True, config: dict | None = None):
        from tqdm import tqdm

        self.acc, self.main = accelerator, accelerator.is_main_process
        self.path = Path(output_dir) / "log.jsonl"
        if self.main and self.path.is_file():  # a resumed run: drop what was logged after its checkpoint
            from ..io import atomic_open

            kept = [r for r in read_log(output_dir) if r.get("step", 0) <= start]
            with atomic_open(self.path) as f:
                f.writelines(json.dumps(r) + "\n" for r in kept)
        self.trackers = bool(accelerator.log_with)
        if self.trackers:
            accelerator.init_trackers(name, config=flat_hparams(config) if config else None)
        self.bar = tqdm(total=total, initial=start, disable=not (self.main and progress), desc=name,
                        dynamic_ncols=True)

    def advance(self, **postfix: float) -> None:
        self.bar.update(1)
        if postfix:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in postfix.items()}, refresh=False)

    def write(self, step: int, scalars: dict[str, float]) -> None:
        """Scalars of optimizer step `step` (1-based: the number of steps done)."""
        if self.trackers:
            self.acc.log(scalars, step=step)
        if self.main:
            clean = {k: (v if math.isfinite(v) else str(v)) for k, v in scalars.items()}
            with open(self.path, "a") as f:
                f.write(json.dumps({"step": step, **clean}) + "\n")

    def close(self) -> None:
        """Flush the trackers. Not `accelerator.end_training()`: it also destroys the process group, which the
        end of a run still needs (the final model, the replica check)."""
        self.bar.close()
        for tracker in self.acc.trackers:
            tracker.finish()


def read_log(output_dir: str | Path) -> list[dict]:
    """The records of `<output_dir>/log.jsonl`, in order."""
    path = Path(output_dir) / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
