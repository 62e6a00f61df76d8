"""Local pretrained-weight files for the metric networks (nothing is ever downloaded at run time).

A metric whose weights are missing is *unavailable*, never computed with random weights: loaders raise
`MissingWeightsError`, and the metric functions built on them report `(None, reason)`.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import torch
from torch import Tensor


class MissingWeightsError(FileNotFoundError):
    """A metric network's weight file was not configured or does not exist."""


def require_file(path: str | Path | None, what: str, where: str) -> Path:
    """`path` as a Path if it names an existing file; otherwise MissingWeightsError saying where to get it."""
    if path is None or str(path) == "":
        raise MissingWeightsError(f"no weights file configured for {what}; get it from {where}")
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingWeightsError(f"{what} weights file not found: {path}; get it from {where}")
    return path


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """A state dict from `.safetensors` or a `torch.save` file (loaded with weights_only=True)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict, got {type(state).__name__}")
    return state


def is_torchscript(path: str | Path) -> bool:
    """TorchScript archives carry compiled code (`<archive>/code/`); `torch.save` files do not."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any("/code/" in name for name in z.namelist())


def load_torchscript(path: str | Path | None, what: str, where: str) -> torch.jit.ScriptModule:
    """A frozen, eval-mode TorchScript feature network (Inception for FID, I3D for FVD) on the CPU."""
    path = require_file(path, what, where)
    with warnings.catch_warnings():  # the published detectors are TorchScript files; nothing else loads them
        warnings.filterwarnings("ignore", message=".*torch.jit.load.* is deprecated", category=DeprecationWarning)
        module = torch.jit.load(str(path), map_location="cpu")
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module
