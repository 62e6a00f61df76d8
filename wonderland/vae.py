"""The frozen CogVideoX 3D VAE (diffusers `AutoencoderKLCogVideoX`) behind the latent contract.

This is the only module that knows the VAE's [-1, 1] input range and its scaling factor
(`vae.config.scaling_factor`, 0.7 for CogVideoX-5B-I2V). Frames in/out are [0, 1], (B, F, 3, H, W);
latents are (B, 16, T, H/8, W/8), already multiplied by the scaling factor (the transformer's space).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from .latents import from_vae_range, latent_shape, to_vae_range

# A tiny VAE with the real architecture and compression (8x spatial, causal 4x temporal), for tests
# and the bundled demo: 16 channels per level is the smallest that keeps GroupNorm(4) meaningful.
TINY_VAE_CONFIG = dict(block_out_channels=(16, 16, 16, 16), layers_per_block=1, norm_num_groups=4,
                       latent_channels=16, scaling_factor=0.7)


def build_tiny_vae(sample_height: int = 64, sample_width: int = 96, **overrides):
    from diffusers import AutoencoderKLCogVideoX

    return AutoencoderKLCogVideoX(**{**TINY_VAE_CONFIG, "sample_height": sample_height,
                                     "sample_width": sample_width, **overrides})


def load_vae(path: str | Path, dtype: torch.dtype = torch.float32):
    """Load from a CogVideoX model directory (with a `vae/` subfolder) or from the VAE folder itself."""
    from diffusers import AutoencoderKLCogVideoX

    path = Path(path)
    sub = "vae" if (path / "vae" / "config.json").is_file() else None
    if sub is None and not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path}: no VAE found (expected vae/config.json or config.json)")
    vae = AutoencoderKLCogVideoX.from_pretrained(path, subfolder=sub, torch_dtype=dtype)
    return vae.eval().requires_grad_(False)


@torch.no_grad()
def encode_video(vae, frames: Tensor, sample: bool = False, generator: torch.Generator | None = None) -> Tensor:
    """(B, F, 3, H, W) in [0, 1] -> scaled latents (B, 16, T, H/8, W/8). Mode of the posterior unless `sample`."""
    b, f, _, h, w = frames.shape
    latent_shape(f, h, w)  # validates 4k+1 frames and /8 sizes
    x = to_vae_range(frames).permute(0, 2, 1, 3, 4).to(vae.dtype)  # (B, 3, F, H, W)
    dist = vae.encode(x).latent_dist
    z = dist.sample(generator) if sample else dist.mode()
    return z * vae.config.scaling_factor


@torch.no_grad()
def decode_latents(vae, latents: Tensor) -> Tensor:
    """Scaled latents (B, 16, T, h, w) -> frames (B, 4T-3, 3, 8h, 8w) in [0, 1]."""
    x = vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor).sample  # (B, 3, F, H, W)
    return from_vae_range(x.float()).permute(0, 2, 1, 3, 4)


_NOT_IDENTITY = ("sample_height", "sample_width")  # tiling thresholds: the latent space does not depend on them


def vae_identity(vae) -> str:
    """`<class>:<sha256 of the config>[:16]`: which VAE made a set of latents (generated clips record it, the LaLRM
    checks it). The config fixes the architecture and the scaling factor (CogVideoX-5B-I2V's 0.7 vs the 2B's
    1.15), so two latent spaces of different shape or scale never mix; two VAEs trained to different weights from
    one config share an identity (hashing the weights would tie it to their dtype and cost a full read). Left out:
    diffusers' own keys (`_name_or_path`, `_diffusers_version`) and the tiling sizes `sample_height/width`."""
    import hashlib
    import json

    config = {k: v for k, v in dict(vae.config).items() if not k.startswith("_") and k not in _NOT_IDENTITY}
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=list).encode()).hexdigest()
    return f"{type(vae).__name__}:{digest[:16]}"
