"""Generated clips (SPEC.md section 6): the videos the camera-guided model makes for the LaLRM's stage `highres`.

One clip is one folder, written atomically (`wonderland.io.atomic_dir`: a reader never sees half a clip)::

    <root>/<clip_id>/
      clip.json             {"format": "wonderland.generated-clip", "version": 1,
                             "num_frames": 49, "height": H, "width": W, "latent_shape": [16, 13, H/8, W/8],
                             "frames": "frames/{:05d}.png",
                             "vae": {"identity": "AutoencoderKLCogVideoX:<config sha256>", "scaling_factor": 0.7},
                             "provenance": {"image": {"path", "sha256", ...}, "trajectory": {"source", "kind",
                                            "key", "frame_indices", "stride", ...}, "prompt", "seed", "steps",
                                            "guidance", "family": {"name", "version", "fingerprint", ...},
                                            "wonderland_version", ...}}
      latents.safetensors   "latents" (16, T, H/8, W/8) float32: the VAE's scaled latents, exactly what the LaLRM
                            reads; metadata {"format", "version", "vae_identity", "vae_scaling_factor"}
      cameras.json          the F cameras the clip was generated along, in the project trajectory format
                            (`wonderland-trajectory show` draws them): OpenCV c2w in the trajectory's own units,
                            K in pixels of (H, W)
      frames/00000.png ...  the F decoded frames, 8-bit RGB PNG

Frames are PNGs, not a video: lossless (the decoded frames are the LaLRM's targets, and a lossy codec would
teach it the codec's artefacts), readable one at a time (a training sample decodes only its V supervision
views, not all 49), and no codec build to depend on (lossless H.264/FFV1 support varies between ffmpeg
builds). The cost is disk: 49 x 480 x 720 x 3 bytes is 51 MB raw per clip, which PNG typically halves.

`VERSION` is the format's version: a reader refuses a clip of a newer version with a one-line error, so an old
installation never misreads clips written by a newer one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..errors import InputError
from ..geometry import Cameras
from ..io import atomic_dir, write_json
from ..latents import latent_shape

FORMAT, VERSION = "wonderland.generated-clip", 1
HEADER, LATENTS, CAMERAS, FRAMES = "clip.json", "latents.safetensors", "cameras.json", "frames/{:05d}.png"


@dataclass
class ClipHeader:
    """`clip.json`, checked: the format version, the clip's sizes, the VAE that made its latents, provenance."""

    path: Path  # the clip folder
    version: int
    num_frames: int
    height: int
    width: int
    latent_shape: tuple[int, int, int, int]  # (16, T, H/8, W/8)
    vae_identity: str
    vae_scaling_factor: float
    provenance: dict


@dataclass
class GeneratedClip:
    header: ClipHeader
    latents: Tensor  # (16, T, h, w) scaled VAE latents
    cameras: Cameras  # (F,) the trajectory's units, pixels of (H, W)
    frames: Tensor | None  # (n, 3, H, W) in [0, 1]: the frames asked for (all F by default), None if none


def write_clip(folder: str | Path, latents: Tensor, cameras: Cameras, frames: Tensor, vae_identity: str,
               vae_scaling_factor: float, provenance: dict) -> Path:
    """latents (16, T, H/8, W/8), cameras (F,) of (H, W), frames (F, 3, H, W) in [0, 1] -> `<folder>/`, atomically
    (an existing clip is replaced only once the new one is complete)."""
    from PIL import Image
    from safetensors.torch import save_file

    from ..trajectories import save_trajectory

    f, h, w = len(cameras), cameras.height, cameras.width
    expected = latent_shape(f, h, w)
    if tuple(latents.shape) != expected:
        raise ValueError(f"latents {tuple(latents.shape)} do not match {f} cameras at {h}x{w} (expected {expected})")
    if tuple(frames.shape) != (f, 3, h, w):
        raise ValueError(f"frames {tuple(frames.shape)} do not match {f} cameras at {h}x{w}")
    header = {"format": FORMAT, "version": VERSION, "num_frames": f, "height": h, "width": w,
              "latent_shape": list(expected), "frames": FRAMES,
              "vae": {"identity": vae_identity, "scaling_factor": float(vae_scaling_factor)},
              "provenance": provenance}
    pixels = (frames.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    with atomic_dir(folder) as tmp:
        save_file({"latents": latents.detach().float().cpu().contiguous()}, str(tmp / LATENTS),
                  metadata={"format": FORMAT, "version": str(VERSION), "vae_identity": vae_identity,
                            "vae_scaling_factor": repr(float(vae_scaling_factor))})
        save_trajectory(tmp / CAMERAS, cameras.to(torch.float64), metadata={"clip": Path(folder).name})
        (tmp / "frames").mkdir()
        for i, im in enumerate(pixels):
            Image.fromarray(im).save(tmp / FRAMES.format(i))
        write_json(tmp / HEADER, header)  # last: a folder with clip.json is a complete clip, even copied by hand
    return Path(folder)


def _field(path: Path, data: dict, key: str, kind: type):
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(path, key, f"expected {kind.__name__}", value=value)
    return value


def read_header(folder: str | Path) -> ClipHeader:
    """`<folder>/clip.json` -> `ClipHeader`. A missing or malformed header, another format or a newer version is an
    `InputError` naming the file."""
    path = Path(folder) / HEADER
    if not path.is_file():
        raise InputError(folder, None, f"not a generated clip (no {HEADER})")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(path, None, f"malformed JSON ({e})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(path, "format", f"expected {FORMAT!r}", value=data.get("format") if isinstance(data, dict)
                         else None)
    version = _field(path, data, "version", int)
    if version > VERSION:
        raise InputError(path, "version", f"clip format version {version} is newer than this reader's ({VERSION}): "
                         "upgrade wonderland to read it")
    if version < 1:
        raise InputError(path, "version", "expected a version >= 1", value=version)
    f, h, w = (_field(path, data, k, int) for k in ("num_frames", "height", "width"))
    try:
        shape = latent_shape(f, h, w)
    except ValueError as e:
        raise InputError(path, "num_frames", str(e)) from None
    if tuple(data.get("latent_shape") or ()) != shape:
        raise InputError(path, "latent_shape", f"expected {list(shape)} for {f} frames at {h}x{w}",
                         value=data.get("latent_shape"))
    vae = _field(path, data, "vae", dict)
    return ClipHeader(Path(folder), version, f, h, w, shape, str(vae.get("identity")),
                      float(vae.get("scaling_factor", float("nan"))), _field(path, data, "provenance", dict))


def read_frames(folder: str | Path, indices: Sequence[int] | None = None) -> Tensor:
    """Decoded frames `indices` (all by default) -> (n, 3, H, W) float32 in [0, 1]."""
    from PIL import Image

    folder = Path(folder)
    if indices is None:
        indices = range(read_header(folder).num_frames)
    frames = []
    for i in indices:
        with Image.open(folder / FRAMES.format(int(i))) as im:
            frames.append(torch.from_numpy(np.asarray(im.convert("RGB")).copy()).permute(2, 0, 1))
    return torch.stack(frames).float() / 255


def read_clip(folder: str | Path, frames: bool | Sequence[int] = True) -> GeneratedClip:
    """A clip: header, latents, cameras, and its decoded frames (`frames`: True = all, a list = those, False =
    none). Files that disagree with the header (latent shape, camera count or size) are an `InputError`."""
    from safetensors import safe_open

    from ..trajectories import load_trajectory

    header = read_header(folder)
    path = header.path / LATENTS
    with safe_open(str(path), "pt") as f:
        latents = f.get_tensor("latents")
    if tuple(latents.shape) != header.latent_shape:
        raise InputError(path, "latents", f"expected shape {list(header.latent_shape)}", value=list(latents.shape))
    cameras = load_trajectory(header.path / CAMERAS, num_frames=header.num_frames)
    if (cameras.height, cameras.width) != (header.height, header.width):
        raise InputError(header.path / CAMERAS, "height", f"expected {header.height}x{header.width} (clip.json)",
                         value=f"{cameras.height}x{cameras.width}")
    indices = None if frames is True else [] if frames is False else list(frames)
    pixels = None if indices == [] else read_frames(header.path, indices)
    return GeneratedClip(header, latents, cameras, pixels)


def is_clip(folder: str | Path) -> bool:
    """A finished clip: `atomic_dir` publishes the folder only once complete, and clip.json is written last."""
    return (Path(folder) / HEADER).is_file()


def list_clips(root: str | Path) -> list[Path]:
    """The finished clips directly under `root`, sorted by name (`atomic_dir`'s `.tmp-*`/`.old-*` folders are not)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and is_clip(p))
