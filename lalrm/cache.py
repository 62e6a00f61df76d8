"""Encode LaLRM training samples with the frozen VAE once, so training reads latents instead.

Sample i of the cache is sample i of the on-the-fly stream of the same config (clip, cameras, supervision
views), its frames replaced by their latents: `<data.cache_dir>/<i:08d>.safetensors` in the project's one
latent-cache format (`wonderland.data.latent_cache`, with the supervision group). Files that exist are kept,
so an interrupted run continues; `shard=(k, n)` splits the work over n processes (e.g. one per GPU).
CLI: `scripts/cache_latents.py`.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tqdm import tqdm

from wonderland.data.latent_cache import encode_sample, write_latent_item
from wonderland.errors import InputError

from .config import TrainConfig
from .data import build_stream


@torch.no_grad()
def cache_latents(cfg: TrainConfig, num_samples: int, shard: tuple[int, int] = (0, 1),
                  progress: bool = True) -> list[Path]:
    """Write samples [0, num_samples) of the config's captured stream (this shard's share); returns the paths."""
    from .train import build_vae

    if cfg.data.cache_dir is None:
        raise InputError(None, "data.cache_dir", "expected the folder to write the cache to")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    vae = build_vae(cfg, device)
    if vae is None:
        raise InputError(None, "vae.path", "no VAE to encode with: set vae.path (or vae.tiny for synthetic data)")
    stream = build_stream(cfg, captured=True)
    out, (k, n) = Path(cfg.data.cache_dir), shard
    paths = []
    for i in tqdm(range(k, num_samples, n), disable=not progress, desc="caching latents"):
        path = out / f"{i:08d}.safetensors"
        if not path.exists():
            sample = stream[i]
            h, w = sample["frames"].shape[-2:]
            write_latent_item(out, f"{i:08d}", encode_sample(vae, sample), h, w, vae.config.scaling_factor)
        paths.append(path)
    return paths
