"""Build a `CameraVideoTransformer` (from a config, a local CogVideoX directory, or on `meta`), and
save / load only its camera parts: `camera_config.json` + `camera_weights.safetensors`.

A released camera checkpoint is the encoders, control blocks, zero linears, fuse linear and LoRA
(about 3.3 GB in bf16 at the full config), never the 5.6B frozen base.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import torch

from wonderland.errors import InputError
from wonderland.io import atomic_path, write_json

from .config import CameraControlConfig
from .transformer import CameraVideoTransformer

CAMERA_CONFIG = "camera_config.json"
CAMERA_WEIGHTS = "camera_weights.safetensors"


def build_camera_transformer(camera: CameraControlConfig, base_config: dict | None = None,
                             pretrained: str | Path | None = None, dtype: torch.dtype = torch.float32,
                             meta: bool = False) -> CameraVideoTransformer:
    """Base from `pretrained` (a CogVideoX directory with `transformer/`, or the folder itself) or
    randomly initialised from `base_config`; `meta=True` allocates nothing (parameter counts, dry runs)."""
    from accelerate import init_empty_weights
    from diffusers import CogVideoXTransformer3DModel

    if pretrained is not None:
        path = Path(pretrained)
        sub = "transformer" if (path / "transformer" / "config.json").is_file() else None
        if sub is None and not (path / "config.json").is_file():
            raise InputError(path, None, "no CogVideoX transformer (expected transformer/config.json)")
        base = CogVideoXTransformer3DModel.from_pretrained(path, subfolder=sub, torch_dtype=dtype)
        return CameraVideoTransformer(base, camera)
    if base_config is None:
        raise ValueError("give a base_config or a pretrained directory")
    # Not meta: the caller's default device applies (e.g. `with torch.device("cuda"):` in the benchmark).
    with init_empty_weights(include_buffers=False) if meta else contextlib.nullcontext():
        base = CogVideoXTransformer3DModel(**base_config)
        base = base if dtype == torch.float32 else base.to(dtype)
        return CameraVideoTransformer(base, camera)


def save_camera_weights(model: CameraVideoTransformer, directory: str | Path) -> None:
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.camera_state_dict().items()}
    with atomic_path(directory / CAMERA_WEIGHTS) as tmp:
        save_file(state, str(tmp), metadata={"format": "camera_video", "version": str(model.camera_config.version)})
    write_json(directory / CAMERA_CONFIG, model.camera_config.to_dict())


def read_camera_config(directory: str | Path) -> CameraControlConfig:
    path = Path(directory) / CAMERA_CONFIG
    if not path.is_file():
        raise InputError(path, None, "missing camera config (written by save_camera_weights)")
    data = json.loads(path.read_text())
    try:
        return CameraControlConfig(**data)
    except TypeError as e:
        raise InputError(path, None, f"not a camera config of this version: {e}") from None


def load_camera_weights(model: CameraVideoTransformer, directory: str | Path) -> None:
    """Load camera parts saved by `save_camera_weights` into a model built with the same camera config."""
    from safetensors.torch import load_file

    saved = read_camera_config(directory)
    if saved != model.camera_config:
        raise InputError(Path(directory) / CAMERA_CONFIG, None,
                         f"camera config {saved} does not match the model's {model.camera_config}")
    state = load_file(str(Path(directory) / CAMERA_WEIGHTS), device=str(model.device))
    expected = set(model.camera_state_dict())
    if set(state) != expected:
        missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
        raise InputError(Path(directory) / CAMERA_WEIGHTS, None, f"missing {missing[:3]}, unexpected {extra[:3]}")
    model.load_state_dict(state, strict=False)


def parameter_report(model: CameraVideoTransformer) -> dict[str, int]:
    """Exact parameter counts per part (works on `meta`)."""
    def count(params) -> int:
        return sum(p.numel() for p in params)

    base = [p for n, p in model.base.named_parameters() if "lora_" not in n]
    lora = [p for n, p in model.base.named_parameters() if "lora_" in n]
    parts = {"base": count(base), "lora": count(lora)}
    for name in ("ctrl_encoder", "lora_encoder", "fuse"):
        module = getattr(model, name)
        parts[name] = count(module.parameters()) if module is not None else 0
    parts["control_blocks"] = count(model.control.blocks.parameters()) if model.control else 0
    parts["zero_linears"] = count(model.control.zero_linears.parameters()) if model.control else 0
    parts["trainable"] = count(p for p in model.parameters() if p.requires_grad)
    parts["total"] = count(model.parameters())
    return parts
