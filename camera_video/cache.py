"""Precompute what training reads from disk: video latents (+ the noisy frame-0 image latent and the
clip's normalised cameras) and T5 prompt embeddings. CLIs: `scripts/cache_video_latents.py`,
`scripts/cache_prompt_embeds.py`. Latents are written in the one latent-cache format of the project
(`wonderland.data.latent_cache`, with the image group), which both trainers read.

The image condition's noise (I2V recipe) is drawn once per cached clip; cache several clips per scene
(`clips_per_scene`) for more variety of clip, stride and noise.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tqdm import tqdm

from wonderland.data.latent_cache import encode_sample, write_latent_item
from wonderland.io import atomic_path
from wonderland.training import seeded

from .data import NULL_PROMPT, noisy_first_frame


@torch.no_grad()
def cache_video_latents(dataset, vae, out: str | Path, clips_per_scene: int = 1, seed: int = 0) -> list[str]:
    """Encode clips of a `VideoClipDataset` (items: frames (F, 3, H, W), c2w, K, key) into `out`, one file per
    clip and pass (`<key>_<pass>.safetensors`); files already there are kept (an interrupted run resumes)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    keys = []
    for epoch in range(clips_per_scene):
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch)
        for i in tqdm(range(len(dataset)), desc=f"caching latents (pass {epoch + 1}/{clips_per_scene})"):
            item = dataset[i]
            key = f"{item['key']}_{epoch}"
            keys.append(key)
            if (out / f"{key}.safetensors").is_file():
                continue
            image = noisy_first_frame(item["frames"][:1], seeded(seed, epoch, i))[0]  # the I2V recipe's noise
            tensors = encode_sample(vae, item, image)  # latents: posterior mode (see camera_video/data.py)
            write_latent_item(out, key, tensors, *item["frames"].shape[-2:], vae.config.scaling_factor)
    return keys


@torch.no_grad()
def cache_prompt_embeds(captions: dict[str, str], text_encoder, tokenizer, out: str | Path,
                        max_length: int = 226) -> None:
    """T5 embeddings (L, 4096) per key, plus the empty prompt under `__null__`, in one safetensors file."""
    from safetensors.torch import save_file

    table = {}
    for key, text in tqdm([(NULL_PROMPT, ""), *captions.items()], desc="caching prompt embeddings"):
        ids = tokenizer([text], padding="max_length", max_length=max_length, truncation=True,
                        add_special_tokens=True, return_tensors="pt").input_ids
        table[key] = text_encoder(ids.to(text_encoder.device))[0][0].float().cpu().contiguous()
    with atomic_path(out) as tmp:
        save_file(table, str(tmp))
