"""The model card's VAE table: the recipe's VAE stage and its variants at equal steps, scored on held-out scenes.

    python -m wonderland.demo.ablation [--steps 400] [--out outputs/vae_ablation.json]

Variants: the recipe as it is, `recolour` (75% of crops with permuted, rescaled colour channels) and
`deterministic` (no KL, the decoder sees the posterior mode). Each is trained on the recipe's 64 training scenes
(dataset seed 0) and scored on the validation scenes (seed 1) and the first 8 test scenes (seed 3): PSNR of
whole 49-frame reconstructions and of their 8 x 8 block means ("block colour"). The committed VAE is scored
too, and `committed_continued` trains it --continue-steps further (lr 5e-4, seed 1): is it still undertrained?
"Committed" is the family's VAE as it is now: since scripts/finetune_demo_models.py, one with a fine-tuned decoder.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

from ..checks import positive_int
from ..cli_args import ArgumentParser
from .common import HELDOUT_SEED, TEST_SEED, TRAIN_SEED, load_clips, write_scenes
from .vae_stage import reconstruction_psnr, train_vae

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = {"recipe": {}, "recolour": {"recolour_p": 0.75}, "deterministic": {"kl_weight": 0.0,
                                                                             "sample_posterior": False}}


def main(argv=None) -> int:
    p = ArgumentParser(prog="python -m wonderland.demo.ablation", description=__doc__)
    p.add_argument("--steps", type=positive_int, default=400)
    p.add_argument("--work", type=Path, default=Path("outputs/vae_ablation"))
    p.add_argument("--out", type=Path, default=Path("outputs/vae_ablation.json"))
    p.add_argument("--continue-steps", type=positive_int, default=600)
    p.add_argument("--threads", type=positive_int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    from wonderland.io import write_json
    from wonderland.vae import load_vae

    train = load_clips(write_scenes(args.work / "train", 64, TRAIN_SEED))
    sets = {"validation": load_clips(write_scenes(args.work / "validation", 8, HELDOUT_SEED)),
            "test8": load_clips(write_scenes(args.work / "test8", 8, TEST_SEED))}

    def score(vae) -> dict:
        return {k: {"psnr": reconstruction_psnr(vae, c), "block_colour_psnr": reconstruction_psnr(vae, c, 8)}
                for k, c in sets.items()}

    committed = ROOT / "models" / "wonderland-demo" / "base" / "vae"
    results = {"committed": score(load_vae(committed))}
    runs = {name: (args.steps, kwargs) for name, kwargs in VARIANTS.items()}
    runs["committed_continued"] = (args.continue_steps, {"lr": 5e-4, "seed": 1, "init": load_vae(committed)})
    for name, (steps, kwargs) in runs.items():
        t0 = time.perf_counter()
        vae, stats = train_vae(train, steps, args.work / "runs" / name, **kwargs)
        results[name] = score(vae) | {"train": stats, "seconds": time.perf_counter() - t0}
        print(name, json.dumps(results[name]), flush=True)
        write_json(args.out, results)  # after every variant: a stopped run keeps what it measured
    return 0


if __name__ == "__main__":
    sys.exit(main())
