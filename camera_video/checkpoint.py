"""Atomic training checkpoints: `<dir>/step_00001234/` holding the camera weights (camera_config.json +
camera_weights.safetensors, loadable on their own) and `trainer_state.pt` (optimizer, lr scheduler,
RNG states, step). A checkpoint is written under a temporary name and renamed when complete, so an
interrupted save never shadows the previous one; only the last `keep` are kept.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import tempfile
from pathlib import Path

import torch

from wonderland.io import atomic_path

from .models.build import load_camera_weights, save_camera_weights

STEP_DIR = re.compile(r"^step_(\d{8})$")
STATE = "trainer_state.pt"


def list_checkpoints(root: str | Path) -> list[Path]:
    root = Path(root)
    found = [p for p in root.iterdir() if p.is_dir() and STEP_DIR.match(p.name)] if root.is_dir() else []
    return sorted(found)


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(root: str | Path, step: int, model, optimizer, lr_scheduler, keep: int) -> Path:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step_{step:08d}"
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=root))
    try:
        save_camera_weights(model, tmp)
        state = {"step": step, "optimizer": optimizer.state_dict(), "lr_scheduler": lr_scheduler.state_dict(),
                 "rng": rng_state(), "format": 1}
        with atomic_path(tmp / STATE) as f:
            torch.save(state, f)
        if final.exists():  # re-saving a step (e.g. the last one) replaces it
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    others = [p for p in list_checkpoints(root) if p != final]  # never prune the one just written
    for old in others[:max(0, len(others) - (keep - 1))]:
        shutil.rmtree(old)
    return final


def load_checkpoint(path: str | Path, model, optimizer, lr_scheduler) -> int:
    """Restore a checkpoint into live objects; returns the step it was taken after."""
    path = Path(path)
    load_camera_weights(model, path)
    state = torch.load(path / STATE, map_location="cpu", weights_only=False)
    optimizer.load_state_dict(state["optimizer"])
    lr_scheduler.load_state_dict(state["lr_scheduler"])
    set_rng_state(state["rng"])
    return int(state["step"])
