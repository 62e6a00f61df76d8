"""Training data: clips of pixels (`wonderland.data.VideoClipDataset`) or a latent cache, and the step
that turns either into the model's inputs.

A batch for the loss (`prepare_batch`): latents (B, 16, T, h, w) and image_latents (B, 16, 1, h, w)
(scaled, VAE space), plucker (B, F, 6, H, W) of the normalised cameras, prompt_embeds (B, L, D).
The recommended path reads latents (`wonderland.data.latent_cache`, with image latents) and prompt embeddings
cached once by `scripts/cache_video_latents.py` (or `scripts/cache_latents.py`, whose LaLRM caches carry image
latents too) and `scripts/cache_prompt_embeds.py`; pixel clips are encoded on the fly with the VAE (tiny runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import ConcatDataset, Dataset

from wonderland.errors import InputError
from wonderland.geometry import plucker_embedding
from wonderland.vae import encode_video

NULL_PROMPT = "__null__"  # key of the empty-prompt embedding in a prompt cache
# Latents are the VAE posterior's mode, not a sample (here and in `cache.py`): the CogVideoX VAE's
# posterior std is tiny next to the latents (sample ~ mode), while the untrained tiny VAE's is as large
# as the signal and would bury it.


@dataclass
class DataConfig:
    kind: str = "synthetic"  # synthetic | re10k | acid | dl3dv | mixed | cache
    root: str | None = None  # dataset root (synthetic: written there when missing); cache: the cache dir
    sources: list[dict] = field(default_factory=list)  # mixed: [{kind, root, strides}] concatenated
    num_frames: int = 49
    height: int = 480
    width: int = 720
    strides: list[int] = field(default_factory=lambda: [3, 4, 5])
    num_scenes: int = 16  # synthetic: scenes to write
    val_scenes: int = 2  # the last scenes of each source are held out for validation
    prompt_cache: str | None = None  # prompt embeddings (safetensors, one tensor per key + __null__)
    seed: int = 0


def collate(items: list[dict]) -> dict:
    out = {}
    for k in items[0]:
        values = [it[k] for it in items]
        out[k] = torch.stack(values) if isinstance(values[0], torch.Tensor) else values
    return out


class _Slice(Sequence):
    """A lazy range of a scene collection (opening a scene reads its camera file)."""

    def __init__(self, scenes: Sequence, start: int, stop: int):
        self.scenes, self.start, self.stop = scenes, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, i: int):
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.scenes[self.start + i]


def _pixel_source(kind: str, root: str, cfg: DataConfig, strides) -> tuple[Dataset, Dataset | None]:
    from wonderland.data import VideoClipDataset, open_scenes

    if kind == "synthetic":
        if not (Path(root) / "wonderland-synth.json").is_file():
            from wonderland.data.synth import write_synthetic_dataset

            write_synthetic_dataset(root, cfg.num_scenes, cfg.num_frames, cfg.height, cfg.width, seed=cfg.seed,
                                    workers=1)
        kind = "re10k"
    scenes = open_scenes(kind, root)
    n_val = min(cfg.val_scenes, len(scenes) - 1)
    make = lambda part, seed: VideoClipDataset(part, cfg.num_frames, cfg.height, cfg.width, strides, seed=seed)  # noqa: E731
    val = make(_Slice(scenes, len(scenes) - n_val, len(scenes)), cfg.seed + 1) if n_val > 0 else None
    return make(_Slice(scenes, 0, len(scenes) - n_val), cfg.seed), val


def build_datasets(cfg: DataConfig) -> tuple[Dataset, Dataset | None]:
    """(train, held-out) datasets of the config; held-out = the last `val_scenes` scenes/clips (None if 0)."""
    if cfg.kind == "cache":
        from wonderland.data.latent_cache import LatentCache

        full = LatentCache(cfg.root, require=("image",), field="data.root")
        split = len(full) - min(cfg.val_scenes, len(full) - 1)
        val = full.subset(full.keys[split:]) if split < len(full) else None
        return full.subset(full.keys[:split]), val
    sources = cfg.sources if cfg.kind == "mixed" else [{"kind": cfg.kind, "root": cfg.root, "strides": cfg.strides}]
    if not sources or any(s.get("root") is None for s in sources):
        raise InputError(None, "data.root", f"data kind {cfg.kind!r} needs a root for every source")
    pairs = [_pixel_source(s["kind"], s["root"], cfg, s.get("strides", cfg.strides)) for s in sources]
    if len(pairs) == 1:
        return pairs[0]
    vals = [p[1] for p in pairs if p[1] is not None]
    return ConcatDataset([p[0] for p in pairs]), ConcatDataset(vals) if vals else None


class PromptEmbeddings:
    """Per-clip prompt embeddings (L, D) from a cache, falling back to its `__null__` entry; without a
    cache, one fixed random embedding (synthetic data has no captions; seeded, so runs are reproducible)."""

    def __init__(self, path: str | None, length: int, dim: int, seed: int = 0):
        if path is not None:
            from safetensors.torch import load_file

            self.table = load_file(path)
            if NULL_PROMPT not in self.table:
                raise InputError(path, NULL_PROMPT, "the prompt cache needs the empty-prompt embedding")
        else:
            self.table = {NULL_PROMPT: torch.randn(length, dim, generator=torch.Generator().manual_seed(seed))}

    def __call__(self, keys: Sequence[str]) -> Tensor:
        return torch.stack([self.table.get(k, self.table[NULL_PROMPT]) for k in keys])


def noisy_first_frame(frames0: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """The I2V recipe's image-condition noise: sigma ~ exp(N(-3, 0.5)) in the VAE's [-1, 1] range.

    (B, 3, H, W) in [0, 1] -> same, noised (sigma / 2 in [0, 1] units; not clamped, as the recipe)."""
    b = frames0.shape[0]
    sigma = torch.exp(torch.randn(b, generator=generator) * 0.5 - 3.0).to(frames0)
    return frames0 + torch.randn(frames0.shape, generator=generator).to(frames0) * sigma[:, None, None, None] / 2


def prepare_batch(batch: dict, prompts: PromptEmbeddings, vae=None, generator: torch.Generator | None = None,
                  height: int | None = None, width: int | None = None) -> dict[str, Tensor]:
    """A collated batch (pixel clips or cached latents) -> the loss's inputs (see module docstring)."""
    c2w, K = batch["c2w"], batch["K"]  # (B, F, 4, 4), (B, F, 3, 3)
    if "latents" in batch:
        latents, image_latents = batch["latents"], batch["image_latents"]
    else:
        if vae is None:
            raise ValueError("pixel clips need the VAE (or use a latent cache)")
        frames = batch["frames"]  # (B, F, 3, H, W)
        height, width = frames.shape[-2:]
        latents = encode_video(vae, frames.to(vae.device))  # posterior mode (see top of module)
        image = noisy_first_frame(frames[:, 0], generator).to(vae.device)
        image_latents = encode_video(vae, image[:, None])
    if height is None:
        height, width = latents.shape[-2] * 8, latents.shape[-1] * 8
    plucker = plucker_embedding(c2w.float(), K.float(), height, width)  # (B, F, 6, H, W)
    return {"latents": latents, "image_latents": image_latents, "plucker": plucker,
            "prompt_embeds": prompts(batch["key"])}
