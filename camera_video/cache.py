"""Precompute what training reads from disk: video latents (+ the noisy frame-0 image latent and the
clip's normalised cameras) and T5 prompt embeddings. CLIs: `scripts/cache_video_latents.py`,
`scripts/cache_prompt_embeds.py`. Layout read back by `camera_video.data.LatentCacheDataset`.

The image condition's noise (I2V recipe) is drawn once per cached clip; cache several clips per scene
(`clips_per_scene`) for more variety of clip, stride and noise.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tqdm import tqdm

from wonderland.io import atomic_path, write_json
from wonderland.vae import encode_video

from .data import CACHE_INDEX, NULL_PROMPT, noisy_first_frame, seeded


@torch.no_grad()
def cache_video_latents(dataset, vae, out: str | Path, clips_per_scene: int = 1, seed: int = 0) -> list[str]:
    """Encode clips of a `VideoClipDataset` (items: frames (F, 3, H, W), c2w, K, key) into `out`."""
    from safetensors.torch import save_file

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    keys, height, width = [], None, None
    for epoch in range(clips_per_scene):
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch)
        for i in tqdm(range(len(dataset)), desc=f"caching latents (pass {epoch + 1}/{clips_per_scene})"):
            item = dataset[i]
            gen = seeded(seed, epoch, i)
            frames = item["frames"][None].to(vae.device)  # (1, F, 3, H, W)
            height, width = frames.shape[-2:]
            latents = encode_video(vae, frames)[0]  # (16, T, h, w), posterior mode (see camera_video/data.py)
            image = encode_video(vae, noisy_first_frame(frames[:, 0], gen)[:, None])[0]
            key = f"{item['key']}_{epoch}"
            tensors = {"latents": latents.cpu(), "image_latents": image.cpu(), "c2w": item["c2w"].float(),
                       "K": item["K"].float()}
            with atomic_path(out / f"{key}.safetensors") as tmp:
                save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp))
            keys.append(key)
    write_json(out / CACHE_INDEX, {"height": int(height), "width": int(width), "keys": keys})
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
