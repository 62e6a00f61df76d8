"""Write a model family directory that `WonderlandPipeline.from_pretrained` reads.

    <dir>/wonderland.json                     the manifest (see manifest.py)
    <dir>/base/{transformer,vae,scheduler}/   diffusers layout of the (stock) CogVideoX base
    <dir>/camera/                             camera parts (CameraControlModel) + camera-LoRA only
    <dir>/lalrm/                              LaLRM (save_pretrained, safetensors)
    <dir>/prompt_embeds.safetensors           optional, for families without a T5 text encoder
    <dir>/pose_stream/                        optional: the pose stream (`PoseStream.save_pretrained`)

Used by the demo-model recipe and by tests that build a tiny family in code, so the real loading
path (`from_pretrained` on local directories) is what runs.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..io import atomic_path, write_json
from .manifest import FORMAT, MANIFEST


def save_family(out: str | Path, stock_transformer, camera_model, vae, scheduler, lalrm, height: int, width: int,
                num_frames: int = 49, name: str = "wonderland", prompt_embeds: torch.Tensor | None = None,
                negative_prompt_embeds: torch.Tensor | None = None, defaults: dict | None = None,
                fps: float = 8.0, pose_stream=None) -> Path:
    """stock_transformer: the frozen base (a diffusers `CogVideoXTransformer3DModel` without LoRA);
    camera_model: the `CameraVideoTransformer` whose camera parts are saved; pose_stream: a `PoseStream` to ship
    (default: the camera model's attached one, if any)."""
    from safetensors.torch import save_file

    out = Path(out)
    stock_transformer.save_pretrained(out / "base" / "transformer")
    vae.save_pretrained(out / "base" / "vae")
    scheduler.save_pretrained(out / "base" / "scheduler")
    camera_model.save_camera(out / "camera")
    lalrm.save_pretrained(out / "lalrm")
    manifest = {"format": FORMAT, "version": 1, "name": name, "base": "base", "camera": "camera",
                "lalrm": "lalrm", "vae": None, "prompt_embeds": None, "height": height, "width": width,
                "num_frames": num_frames, "fps": fps, "defaults": defaults or {}}
    if prompt_embeds is not None:
        tensors = {"prompt_embeds": prompt_embeds.contiguous()}
        if negative_prompt_embeds is not None:
            tensors["negative_prompt_embeds"] = negative_prompt_embeds.contiguous()
        with atomic_path(out / "prompt_embeds.safetensors") as tmp:
            save_file(tensors, str(tmp))
        manifest["prompt_embeds"] = "prompt_embeds.safetensors"
    pose_stream = pose_stream if pose_stream is not None else getattr(camera_model, "pose_stream", None)
    if pose_stream is not None:
        pose_stream.save_pretrained(out / "pose_stream")
        manifest["pose_stream"] = "pose_stream"
    write_json(out / MANIFEST, manifest)
    return out
