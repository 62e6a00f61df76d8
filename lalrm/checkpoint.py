"""Training checkpoints (atomic, keep last K, resumable) and stage initialisation (lowres -> highres).

A checkpoint is a folder `<output_dir>/checkpoints/step-<step:08d>/` written by `accelerator.save_state`
(model, optimizer, registered scheduler, every process's RNG states) plus `trainer_state.json`
{"version", "step"}. It is written under a temporary name and renamed when complete, so a run killed
mid-save never leaves a partial checkpoint under a final name; the step is the data position (the
sample stream is a function of the step, lalrm/data.py).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file

from .model import LaLRM, resample_head_kernel

CHECKPOINT_VERSION = 1
PREFIX = "step-"


def save_checkpoint(accelerator, root: Path, step: int, keep_last: int) -> Path:
    """Collective: every process calls it (each saves its RNG state)."""
    final, tmp = root / f"{PREFIX}{step:08d}", root / f".tmp-{PREFIX}{step:08d}"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)  # left by a run killed while saving
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / "trainer_state.json").write_text(json.dumps({"version": CHECKPOINT_VERSION, "step": step}))
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        for old in list_checkpoints(root)[:-keep_last]:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()
    return final


def list_checkpoints(root: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    return sorted(p for p in Path(root).glob(f"{PREFIX}*") if (p / "trainer_state.json").is_file())


def latest_checkpoint(root: Path) -> Path | None:
    found = list_checkpoints(root)
    return found[-1] if found else None


def load_checkpoint(accelerator, path: Path) -> int:
    """Restore model, optimizer, scheduler and RNG states; returns the step to continue from."""
    state = json.loads((Path(path) / "trainer_state.json").read_text())
    if state["version"] != CHECKPOINT_VERSION:
        raise ValueError(f"{path}: checkpoint version {state['version']}, this code reads {CHECKPOINT_VERSION}")
    accelerator.load_state(str(path))
    return int(state["step"])


def read_model_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Weights from a `save_pretrained` folder or a training checkpoint folder."""
    path = Path(path)
    for name in ("diffusion_pytorch_model.safetensors", "model.safetensors"):
        if (path / name).is_file():
            return load_file(path / name)
    raise FileNotFoundError(f"{path}: no diffusion_pytorch_model.safetensors or model.safetensors")


def init_from_stage(model: LaLRM, path: str | Path) -> None:
    """Initialise `model` from a previous stage's weights (tokenizers + transformer copied as they are).

    The head's deconvolution kernel changes shape with the head stride (16 -> 8 for lowres -> highres);
    it is resampled by `resample_head_kernel` (area average), so at step 0 the highres head's raw output
    is exactly the 2x2 average of what the lowres head would have produced for the same tokens. Its
    LayerNorm and bias are copied. Every other tensor must match exactly (strict load).
    """
    state = read_model_weights(path)
    key = "head.deconv.weight"
    state[key] = resample_head_kernel(state[key], model.config.head_stride)
    model.load_state_dict(state, strict=True)
