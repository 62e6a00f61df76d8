"""The latent cache: training samples with their frames replaced by VAE latents, read by both subsystems.

A cache is a folder of `<key>.safetensors` files, one sample each (the VAE runs once, training reads latents):
  latents (16, T, h, w)        scaled VAE latents (posterior mode), the transformer's / LaLRM's input
  c2w (F, 4, 4), K (F, 3, 3)   the clip's cameras: OpenCV c2w relative to frame 0 and scale-normalised, K in
                               pixels of (height, width)
  image_latents (16, 1, h, w)  optional: the I2V image condition (camera_video)
  sup_frames (V, 3, hs, ws), sup_c2w (V, 4, 4), sup_K (V, 3, 3), sup_is_seen (V,)   optional: the LaLRM's
                               supervision views (same world frame as c2w)
Each file's safetensors metadata: {"format": "wonderland.latent-cache", "version": "1", "key", "height",
"width", "vae_scaling_factor"}. Files are written atomically, so a folder is always a set of complete samples
and an interrupted writer resumes by skipping files that exist. A reader names the tensor groups it needs
and refuses a cache without them (or of another format) with a one-line error.

Writers: `scripts/cache_latents.py` (LaLRM samples, with supervision views and image latents) and
`scripts/cache_video_latents.py` (camera-video clips).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..errors import InputError
from ..io import atomic_path

FORMAT, VERSION = "wonderland.latent-cache", 1
CAMERA = ("latents", "c2w", "K")
GROUPS = {"image": ("image_latents",), "supervision": ("sup_frames", "sup_c2w", "sup_K", "sup_is_seen")}


def write_latent_item(root: str | Path, key: str, tensors: dict[str, Tensor], height: int, width: int,
                      vae_scaling_factor: float) -> Path:
    """One sample (CAMERA tensors + any whole GROUPS) -> `<root>/<key>.safetensors`, atomically."""
    from safetensors.torch import save_file

    missing = [k for k in CAMERA if k not in tensors]
    partial = [g for g, names in GROUPS.items() if any(n in tensors for n in names) and not
               all(n in tensors for n in names)]
    unknown = sorted(set(tensors) - set(CAMERA) - {n for names in GROUPS.values() for n in names})
    if missing or partial or unknown:
        raise ValueError(f"latent cache item {key}: missing {missing}, partial groups {partial}, unknown {unknown}")
    path = Path(root) / f"{key}.safetensors"
    meta = {"format": FORMAT, "version": str(VERSION), "key": str(key), "height": str(int(height)),
            "width": str(int(width)), "vae_scaling_factor": repr(float(vae_scaling_factor))}
    with atomic_path(path) as tmp:
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp), metadata=meta)
    return path


def read_meta(path: str | Path) -> dict:
    """The metadata of one cache file, checked for format and version."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != FORMAT:
        old = meta.get("format", "none (a camera_video cache of wonderland 0.1)")
        raise InputError(path, "format", f"{old!r} is not a {FORMAT} file; rebuild the cache with "
                         "scripts/cache_latents.py or scripts/cache_video_latents.py")
    if int(meta.get("version", 0)) > VERSION:
        raise InputError(path, "version", f"{meta['version']}: written by a newer wonderland (this one reads "
                         f"{VERSION})")
    return meta


class LatentCache(Dataset):
    """The samples of a cache folder, sorted by key; `require` names the GROUPS a trainer needs ("image",
    "supervision"). Items: the file's tensors + "key"."""

    def __init__(self, root: str | Path, require: Sequence[str] = (), keys: Sequence[str] | None = None,
                 field: str = "data.cache_dir"):
        self.root = Path(root)
        files = sorted(self.root.glob("*.safetensors")) if self.root.is_dir() else []
        if not files:
            raise InputError(self.root, field, "no cached samples (*.safetensors): write them with "
                             "scripts/cache_latents.py or scripts/cache_video_latents.py")
        meta = read_meta(files[0])
        self.height, self.width = int(meta["height"]), int(meta["width"])
        self.vae_scaling_factor = float(meta["vae_scaling_factor"])
        self.keys = list(keys) if keys is not None else [p.stem for p in files]
        self.require = tuple(require)
        from safetensors import safe_open

        with safe_open(str(files[0]), "pt") as f:
            have = set(f.keys())
        for group in self.require:
            if not set(GROUPS[group]) <= have:
                raise InputError(self.root, field, f"the cache has no {group} tensors {list(GROUPS[group])}; "
                                 "rebuild it with the writer that includes them (see wonderland/data/latent_cache.py)")

    def __len__(self) -> int:
        return len(self.keys)

    def subset(self, keys: Sequence[str]) -> LatentCache:
        out = object.__new__(LatentCache)
        out.__dict__ |= self.__dict__ | {"keys": list(keys)}
        return out

    def __getitem__(self, i: int) -> dict:
        from safetensors.torch import load_file

        path = self.root / f"{self.keys[i]}.safetensors"
        read_meta(path)
        return load_file(str(path)) | {"key": self.keys[i]}


@torch.no_grad()
def encode_sample(vae, sample: dict, image: Tensor | None = None) -> dict[str, Tensor]:
    """A dataset sample (frames (F, 3, H, W) in [0, 1], c2w, K and optional sup_* views) -> the tensors of its
    cache item; `image` (3, H, W), if given, is VAE-encoded as the image condition."""
    from ..vae import encode_video

    device = next(vae.parameters()).device
    out = {"latents": encode_video(vae, sample["frames"][None].to(device))[0].float(),
           "c2w": sample["c2w"].float(), "K": sample["K"].float()}
    if image is not None:
        out["image_latents"] = encode_video(vae, image[None, None].to(device))[0].float()
    if "sup_frames" in sample:
        out |= {k: sample[k] for k in GROUPS["supervision"]}
    return out
