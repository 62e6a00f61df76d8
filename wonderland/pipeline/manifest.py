"""The model-family manifest: `<model_dir>/wonderland.json` says which weights make up a Wonderland model.

    {"format": "wonderland.model", "version": 1, "name": "wonderland-5b",
     "base": "/models/CogVideoX-5b-I2V",   # diffusers layout: transformer/ vae/ scheduler/ [text_encoder/ tokenizer/]
     "camera": "camera",                   # camera parts + camera-LoRA (CameraVideoTransformer.save_camera)
     "lalrm": "lalrm",                     # latent 3D decoder (save_pretrained): a LaLRM or a StitchedDecoder
     "vae": null,                          # optional: a VAE folder other than <base>/vae
     "prompt_embeds": null,                # optional safetensors {"prompt_embeds", "negative_prompt_embeds"}
                                           #   for families without a T5 text encoder
     "alignment": null,                    # optional: a VIST3A alignment-LoRA (wonderland.align), used when present
     "pose_stream": null,                  # optional: a VideoRFSplat pose stream (PoseStream.save_pretrained),
                                           #   what `--trajectory auto` samples with (wonderland.pipeline.pose)
     "height": 480, "width": 720, "num_frames": 49, "fps": 8,
     "defaults": {"num_inference_steps": 50, "guidance_scale": 6.0, "prompt": ""}}

Relative paths are relative to the model directory. `read_manifest` checks every path and the files
each loader needs before anything is loaded, so a broken model directory is a one-line error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..latents import latent_shape

MANIFEST = "wonderland.json"
FORMAT = "wonderland.model"


@dataclass
class Manifest:
    root: Path
    name: str
    base: Path
    camera: Path
    lalrm: Path
    vae: Path
    prompt_embeds: Path | None
    height: int
    width: int
    num_frames: int
    fps: float = 8.0
    defaults: dict = field(default_factory=dict)
    alignment: Path | None = None  # the alignment component (wonderland/align/lora.py), if the family has one
    pose_stream: Path | None = None  # the pose stream (camera_video/models/pose_stream.py), if the family has one

    @property
    def has_text_encoder(self) -> bool:
        return (self.base / "text_encoder").is_dir() and (self.base / "tokenizer").is_dir()

    def to_json(self) -> dict:
        return {"name": self.name, "base": str(self.base), "camera": str(self.camera), "lalrm": str(self.lalrm),
                "vae": str(self.vae), "height": self.height, "width": self.width, "num_frames": self.num_frames}


def _need(path: Path, manifest: Path, fieldname: str, *files: str) -> None:
    if not path.exists():
        raise InputError(manifest, fieldname, f"{path} does not exist")
    for f in files:
        if not any(path.glob(f)):
            raise InputError(manifest, fieldname, f"{path} has no {f}")


def read_manifest(model_dir: str | Path) -> Manifest:
    root = Path(model_dir)
    path = root / MANIFEST
    if not path.is_file():
        raise InputError(root, None, f"not a Wonderland model directory (no {MANIFEST})")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise InputError(path, None, f"malformed JSON ({e})") from None
    if data.get("format") != FORMAT or data.get("version") != 1:
        raise InputError(path, "format", f"expected format '{FORMAT}' version 1")
    for key in ("base", "camera", "lalrm", "height", "width", "num_frames"):
        if key not in data:
            raise InputError(path, key, "missing")

    def resolve(key: str) -> Path:
        p = Path(data[key])
        return p if p.is_absolute() else root / p

    base, camera, lalrm = resolve("base"), resolve("camera"), resolve("lalrm")
    vae = resolve("vae") if data.get("vae") else base / "vae"
    _need(base / "transformer", path, "base", "config.json", "*.safetensors*")
    _need(base / "scheduler", path, "base", "scheduler_config.json")
    _need(vae, path, "vae", "config.json", "*.safetensors*")
    _need(camera, path, "camera", "*.json", "*.safetensors")
    _need(lalrm, path, "lalrm", "config.json", "*.safetensors")
    embeds = resolve("prompt_embeds") if data.get("prompt_embeds") else None
    if embeds is not None and not embeds.is_file():
        raise InputError(path, "prompt_embeds", f"{embeds} does not exist")
    alignment = resolve("alignment") if data.get("alignment") else None
    if alignment is not None:
        _need(alignment, path, "alignment", "config.json", "align_lora.safetensors")
    pose_stream = resolve("pose_stream") if data.get("pose_stream") else None
    if pose_stream is not None:
        _need(pose_stream, path, "pose_stream", "config.json", "*.safetensors")
    try:
        latent_shape(int(data["num_frames"]), int(data["height"]), int(data["width"]))
    except ValueError as e:
        raise InputError(path, "num_frames", str(e)) from None
    return Manifest(root=root, name=str(data.get("name", root.name)), base=base, camera=camera, lalrm=lalrm,
                    vae=vae, prompt_embeds=embeds, height=int(data["height"]), width=int(data["width"]),
                    num_frames=int(data["num_frames"]), fps=float(data.get("fps", 8)),
                    defaults=dict(data.get("defaults", {})), alignment=alignment,
                    pose_stream=pose_stream)
