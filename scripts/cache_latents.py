"""Encode LaLRM training samples with the frozen CogVideoX VAE once, so training reads latents instead.

    python scripts/cache_latents.py --num-samples 200000 stage=lowres data=re10k vae.path=/models/CogVideoX-5b-I2V

Sample i of the cache is sample i of the on-the-fly stream of the same config (lalrm/cache.py); existing files
are skipped, so an interrupted run continues; `--shard k/n` splits the work over n processes.
"""

from __future__ import annotations

import sys

from lalrm.cache import cache_latents
from lalrm.config import build_config
from lalrm.train import CONFIG_DIR
from wonderland.checks import int_range
from wonderland.cli_args import ArgumentParser
from wonderland.errors import InputError
from wonderland.hydra_entry import load_config


def shard(text: str) -> tuple[int, int]:
    import argparse

    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError("expected k/n, e.g. 0/4") from None
    if not 0 <= k < n:
        raise argparse.ArgumentTypeError("expected k/n with 0 <= k < n")
    return k, n


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="cache_latents.py", description=__doc__)
    parser.add_argument("--num-samples", type=int_range(1), required=True)
    parser.add_argument("--shard", type=shard, default=(0, 1),
                        help="k/n: this process writes samples i with i %% n == k")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of configs/lalrm/config.yaml")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(CONFIG_DIR, args.overrides, build_config)
        cache_latents(cfg, args.num_samples, args.shard)
    except InputError as e:
        print(f"cache_latents.py: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
