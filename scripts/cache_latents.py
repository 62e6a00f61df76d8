"""Encode LaLRM training samples with the frozen CogVideoX VAE once, so training reads latents instead.

    python scripts/cache_latents.py --num-samples 200000 stage=lowres data=re10k vae.path=/models/CogVideoX-5b-I2V

Sample i of the cache is sample i of the on-the-fly stream of the same config (clip, cameras, supervision
views), with its frames replaced by their latents; written to `data.cache_dir/<i:08d>.safetensors`
(format: lalrm/data.py). Existing files are skipped, so an interrupted run continues; `--shard k/n`
splits the work over n processes (e.g. one per GPU).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from tqdm import tqdm

from lalrm.config import build_config
from lalrm.data import build_stream, write_cache_item
from lalrm.train import build_vae
from wonderland.vae import encode_video

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs" / "lalrm"


def cache_latents(cfg, num_samples: int, shard: tuple[int, int] = (0, 1), progress: bool = True) -> list[Path]:
    """Write samples [0, num_samples) of the config's captured stream (this shard's share); returns the paths."""
    if cfg.data.cache_dir is None:
        raise ValueError("data.cache_dir is not set")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    vae = build_vae(cfg, device)
    if vae is None:
        raise ValueError("no VAE: set vae.path (or vae.tiny for synthetic data)")
    stream = build_stream(cfg, captured=True)
    out, (k, n) = Path(cfg.data.cache_dir), shard
    paths = []
    for i in tqdm(range(k, num_samples, n), disable=not progress, desc="caching latents"):
        path = out / f"{i:08d}.safetensors"
        if not path.exists():
            sample = stream[i]
            latents = encode_video(vae, sample["frames"][None].to(device))[0].float().cpu()  # (16, T, h, w)
            write_cache_item(path, sample, latents)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    from hydra import compose, initialize_config_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-samples", type=int, required=True)
    parser.add_argument("--shard", default="0/1", help="k/n: this process writes samples i with i %% n == k")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of configs/lalrm/config.yaml")
    args = parser.parse_args(argv)
    k, n = (int(x) for x in args.shard.split("/"))
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = build_config(compose("config", overrides=args.overrides))
    cache_latents(cfg, args.num_samples, (k, n))


if __name__ == "__main__":
    main()
