"""Build a `CameraVideoTransformer` (from a config, a local CogVideoX directory, or on `meta`), and read a
camera folder back onto a base.

A camera folder (`CameraVideoTransformer.save_camera`) is the camera parts as a diffusers model
(`config.json` + `diffusion_pytorch_model.safetensors`, class `CameraControlModel`) plus the camera-LoRA
(`camera_lora.safetensors`): about 3.3 GB in bf16 at the full config, never the 5.6B frozen base.
Folders of wonderland 0.1 (`camera_config.json` + `camera_weights.safetensors`) still load.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import torch

from wonderland.errors import InputError

from .camera_model import CameraControlModel
from .config import CameraControlConfig
from .transformer import CameraVideoTransformer

LEGACY_CONFIG, LEGACY_WEIGHTS = "camera_config.json", "camera_weights.safetensors"  # wonderland 0.1


def load_base(pretrained: str | Path, dtype: torch.dtype = torch.float32):
    """A `CogVideoXTransformer3DModel` from a CogVideoX directory (with `transformer/`) or the folder itself."""
    from diffusers import CogVideoXTransformer3DModel

    path = Path(pretrained)
    sub = "transformer" if (path / "transformer" / "config.json").is_file() else None
    if sub is None and not (path / "config.json").is_file():
        raise InputError(path, None, "no CogVideoX transformer (expected transformer/config.json)")
    return CogVideoXTransformer3DModel.from_pretrained(path, subfolder=sub, torch_dtype=dtype)


def build_camera_transformer(camera: CameraControlConfig, base_config: dict | None = None,
                             pretrained: str | Path | None = None, dtype: torch.dtype = torch.float32,
                             meta: bool = False) -> CameraVideoTransformer:
    """Fresh camera parts on a base from `pretrained` or randomly initialised from `base_config`;
    `meta=True` allocates nothing (parameter counts, dry runs)."""
    from accelerate import init_empty_weights
    from diffusers import CogVideoXTransformer3DModel

    if pretrained is not None:
        return CameraVideoTransformer(load_base(pretrained, dtype), camera)
    if base_config is None:
        raise ValueError("give a base_config or a pretrained directory")
    # Not meta: the caller's default device applies (e.g. `with torch.device("cuda"):` in the benchmark).
    with init_empty_weights(include_buffers=False) if meta else contextlib.nullcontext():
        base = CogVideoXTransformer3DModel(**base_config)
        base = base if dtype == torch.float32 else base.to(dtype)
        return CameraVideoTransformer(base, camera)


def load_camera_transformer(base, directory: str | Path) -> CameraVideoTransformer:
    """A frozen `base` (a `CogVideoXTransformer3DModel` without LoRA) + the camera folder `directory`."""
    directory = Path(directory)
    if _is_legacy(directory):
        model = CameraVideoTransformer(base, _legacy_config(directory))
        load_camera_into(model, directory)
        return model
    camera = _read_camera_model(directory)
    camera.check_fits(base, directory / "config.json")
    model = CameraVideoTransformer(base, camera=camera)
    model.load_camera_lora(directory)
    return model


def load_camera_into(model: CameraVideoTransformer, directory: str | Path) -> None:
    """Camera weights of a folder into an existing model of the same camera configuration (training init)."""
    directory = Path(directory)
    saved = _legacy_config(directory) if _is_legacy(directory) else _read_camera_model(directory).camera_config
    if saved != model.camera_config:
        raise InputError(directory, None, f"camera config {saved} does not match the model's {model.camera_config}")
    if not _is_legacy(directory):
        model.camera.load_state_dict(_read_camera_model(directory).state_dict())
        model.load_camera_lora(directory)
        return
    from safetensors.torch import load_file

    # wonderland 0.1 keys (control.*, ctrl_encoder.*, fuse.*, lora_encoder.*, base.*lora*) map one to one.
    state = load_file(str(directory / LEGACY_WEIGHTS), device=str(model.device))
    renamed = {k if k.startswith("base.") else f"camera.{k}": v for k, v in state.items()}
    expected = set(model.camera_state_dict())
    if set(renamed) != expected:
        missing, extra = sorted(expected - set(renamed)), sorted(set(renamed) - expected)
        raise InputError(directory / LEGACY_WEIGHTS, None, f"missing {missing[:3]}, unexpected {extra[:3]}")
    model.load_state_dict(renamed, strict=False)


def _is_legacy(directory: Path) -> bool:
    return (directory / LEGACY_CONFIG).is_file() and not (directory / "config.json").is_file()


def _read_camera_model(directory: Path) -> CameraControlModel:
    if not (directory / "config.json").is_file():
        raise InputError(directory, None, "not a camera folder (no config.json; written by save_camera)")
    return CameraControlModel.from_pretrained(directory)


def _legacy_config(directory: Path) -> CameraControlConfig:
    path = directory / LEGACY_CONFIG
    try:
        fields = json.loads(path.read_text())
        version = fields.pop("version", 1)
        camera = CameraControlConfig(**fields)
    except (TypeError, ValueError, json.JSONDecodeError) as e:
        raise InputError(path, None, f"not a camera config of wonderland 0.1: {e}") from None
    if version != 1:
        raise InputError(path, "version", f"{version}; this version reads legacy version 1")
    return camera


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
    stream = model.pose_stream
    parts["pose_stream"] = count(stream.parameters()) if stream is not None else 0
    parts["trainable"] = count(p for p in model.parameters() if p.requires_grad)
    parts["total"] = count(model.parameters())
    return parts
