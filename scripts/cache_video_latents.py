"""Cache CogVideoX VAE latents of training clips: the recommended input of `python -m camera_video.train`.

    python scripts/cache_video_latents.py --kind re10k --root data/re10k/train --out cache/re10k \
        --pretrained /models/CogVideoX-5b-I2V --strides 3 4 5 --clips-per-scene 2
Then train with `data.kind=cache data.root=cache/re10k`. Without --pretrained the tiny VAE is used
(seeded exactly as `camera_video.train` builds it; for smoke runs).
"""

from __future__ import annotations

import argparse

import torch

from camera_video.cache import cache_video_latents
from camera_video.data import DataConfig, build_datasets
from wonderland.vae import build_tiny_vae, load_vae


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", required=True, help="synthetic | re10k | acid | dl3dv")
    ap.add_argument("--root", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pretrained", default=None, help="CogVideoX directory with vae/ (default: tiny VAE)")
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--width", type=int, default=720)
    ap.add_argument("--strides", type=int, nargs="+", default=[3, 4, 5])
    ap.add_argument("--clips-per-scene", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vae-scaling-factor", type=float, default=None, help="tiny VAE only (model.vae_scaling_factor)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args(argv)
    cfg = DataConfig(kind=args.kind, root=args.root, height=args.height, width=args.width, strides=args.strides,
                     val_scenes=0, seed=args.seed)
    dataset, _ = build_datasets(cfg)
    if args.pretrained:
        vae = load_vae(args.pretrained, torch.bfloat16 if args.device == "cuda" else torch.float32)
    else:
        torch.manual_seed(args.seed)
        scale = {"scaling_factor": args.vae_scaling_factor} if args.vae_scaling_factor else {}
        vae = build_tiny_vae(args.height, args.width, **scale).eval()
    vae.to(args.device).enable_slicing()
    keys = cache_video_latents(dataset, vae, args.out, args.clips_per_scene, args.seed)
    print(f"cached {len(keys)} clips in {args.out}")


if __name__ == "__main__":
    main()
