"""Training checkpoints: one scheme for every trainer.

`<output_dir>/checkpoints/step-<step:08d>/` holds what `accelerator.save_state` writes (model weights,
optimizer, the registered lr schedule, every process's RNG states) plus `trainer_state.json`
{"format": "wonderland.checkpoint", "version": 2, "trainer", "step", "trainable_only"}. It is written as
`.tmp-step-<step>` and published by one directory rename once complete, so a process killed mid-save
leaves the previous checkpoint as the newest complete one (a checkpoint is complete iff it has
`trainer_state.json`). Only the newest `keep_last` are kept.

`trainable_only=True` (a frozen 5B base under trainable branches) saves and restores only the parameters
that require grad: the checkpoint holds the trainable weights, not a copy of the frozen model.
Checkpoints of earlier releases (camera_video's `step_<step>` folders, LaLRM version 1) are refused with a
one-line error that says what to do.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..errors import InputError
from ..io import atomic_open, publish_dir

FORMAT = "wonderland.checkpoint"
VERSION = 2
STATE = "trainer_state.json"
PREFIX = "step-"


def list_checkpoints(root: str | Path) -> list[Path]:
    """Complete checkpoints under `root`, oldest first."""
    root = Path(root)
    return sorted(p for p in root.glob(f"{PREFIX}*") if (p / STATE).is_file()) if root.is_dir() else []


def read_state(path: str | Path) -> dict:
    """The `trainer_state.json` of a checkpoint, checked for format and version."""
    path = Path(path)
    if (path / "trainer_state.pt").is_file():
        raise InputError(path, "format", "a camera_video checkpoint of wonderland 0.1 (step_<n>/trainer_state.pt), "
                         "which this version cannot resume; start a new run (trainer.resume=null) from its weights "
                         "with model.init_camera_weights=<dir> (its camera weights still load)")
    if not (path / STATE).is_file():
        raise InputError(path, None, f"not a training checkpoint (no {STATE})")
    state = json.loads((path / STATE).read_text())
    if state.get("format") != FORMAT or state.get("version") != VERSION:
        raise InputError(path / STATE, "version", f"checkpoint version {state.get('version')} (wonderland 0.1); this "
                         f"version resumes version {VERSION} only: start a new run (trainer.resume=null) and "
                         "initialise from the checkpoint's model.safetensors (e.g. stage.init_from=<dir>)")
    return state


def _trainable_names(model) -> set[str]:
    return {n for n, p in model.named_parameters() if p.requires_grad}


class Checkpointer:
    """Save / find / restore checkpoints of one run through its `accelerate.Accelerator` (collective calls)."""

    def __init__(self, accelerator, root: str | Path, keep_last: int, trainer: str, trainable_only: bool = False):
        self.acc, self.root, self.keep_last = accelerator, Path(root), keep_last
        self.trainer, self.trainable_only = trainer, trainable_only
        if trainable_only:
            accelerator.register_save_state_pre_hook(self._keep_trainable)

    @staticmethod
    def _keep_trainable(models, weights, output_dir) -> None:
        for model, state in zip(models, weights):
            names = _trainable_names(model)
            for key in [k for k in state if k not in names]:
                del state[key]

    # ---- save -------------------------------------------------------------------------------------
    def save(self, step: int) -> Path:
        """Every process calls it (each saves its RNG state); returns the published folder."""
        final = self.root / f"{PREFIX}{step:08d}"
        tmp = self.root / f".tmp-{final.name}"
        if self.acc.is_main_process:
            shutil.rmtree(tmp, ignore_errors=True)  # left by a run killed while saving
            tmp.mkdir(parents=True)
        self.acc.wait_for_everyone()
        self.acc.save_state(str(tmp))
        self.acc.wait_for_everyone()
        if self.acc.is_main_process:
            with atomic_open(tmp / STATE) as f:
                json.dump({"format": FORMAT, "version": VERSION, "trainer": self.trainer, "step": step,
                           "trainable_only": self.trainable_only}, f)
            _sync_dir(tmp)
            publish_dir(tmp, final)
            for old in list_checkpoints(self.root)[:-self.keep_last]:
                shutil.rmtree(old)
        self.acc.wait_for_everyone()
        return final

    # ---- resume -----------------------------------------------------------------------------------
    def resolve(self, resume: str | None) -> Path | None:
        """`trainer.resume`: None / "none" -> fresh; "auto" -> the newest complete checkpoint (or fresh);
        a path -> that checkpoint (it must be one)."""
        if resume is None or resume == "none":
            return None
        if resume == "auto":
            found = list_checkpoints(self.root)
            if not found and self.root.is_dir() and any(self.root.glob("step_[0-9]*")):
                read_state(sorted(self.root.glob("step_[0-9]*"))[-1])  # an old camera_video run: its error
            return found[-1] if found else None
        path = Path(resume)
        read_state(path)
        return path

    def load(self, path: str | Path) -> int:
        """Restore model, optimizer, schedule and RNG states; returns the step to continue from."""
        path = Path(path)
        state = read_state(path)
        if state.get("trainer") != self.trainer:
            raise InputError(path / STATE, "trainer", f"a checkpoint of {state.get('trainer')!r}, not of "
                             f"{self.trainer!r}")
        if self.trainable_only:
            self.acc.load_state(str(path), strict=False)
            self._check_trainable(path)
        else:
            self.acc.load_state(str(path))
        return int(state["step"])

    def _check_trainable(self, path: Path) -> None:
        """strict=False loads only what is there: make sure that is exactly every trainable weight."""
        from safetensors import safe_open

        for i, model in enumerate(self.acc._models):
            file = path / ("model.safetensors" if i == 0 else f"model_{i}.safetensors")
            with safe_open(file, "pt") as f:
                saved = set(f.keys())
            expected = _trainable_names(model)
            if saved != expected:
                missing, extra = sorted(expected - saved), sorted(saved - expected)
                raise InputError(file, None, f"does not hold this model's trainable weights: missing {missing[:3]}, "
                                 f"unexpected {extra[:3]} (another model configuration?)")


def _sync_dir(folder: Path) -> None:
    """fsync every file of a finished checkpoint before it is published (power loss, not just a kill)."""
    for p in folder.rglob("*"):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
