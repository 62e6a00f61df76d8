"""`wonderland-make-clips --images DIR --trajectories SOURCE --out DIR`: the LaLRM's stage-2 training clips.

Pairs every image with camera paths (`--clips-per-image` of them, drawn from `--seed`), generates a video along
each with a model family (the bundled demo family unless `--model`), and writes one clip per pair in the format
of `wonderland.data.generated_clips` (latents, cameras, decoded frames, provenance), which `lalrm.train` reads
with `data.generated.root=DIR`. SOURCE is a folder of trajectory files (project JSON, RE10K .txt,
transforms.json; a window of the path at `--strides`, default 1) or, with `--dataset-kind`, a dataset root read
through `wonderland.data` (default strides: the dataset's clip strides, RE10K 3,4,5 / ACID 1,2 / DL3DV 1).

Several machines: `--shard i/n` on machine i (or RANK / WORLD_SIZE as `torchrun` sets them) split the clips
without overlap. A rerun skips finished clips and redoes a half-written one. Every input is checked before
a model loads (a bad option, folder or model is one line and exit status 2); an unreadable image or a path
too short for a clip is skipped and counted in `<out>/summary.json`. Exit status 1 if a clip failed otherwise.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

from ..checks import check_output_dir, choice, finite_float, nonnegative_int, positive_int
from ..cli_args import ArgumentParser
from ..errors import InputError

PROG = "wonderland-make-clips"


def shard_arg(text: str) -> tuple[int, int]:
    import argparse

    from ..eval.results import parse_shard

    try:
        return parse_shard(text)
    except InputError as e:
        raise argparse.ArgumentTypeError(e.problem.split(", got")[0]) from None


def strides_arg(text: str) -> tuple[int, ...]:
    import argparse

    try:
        strides = tuple(int(s) for s in text.split(","))
    except ValueError:
        strides = ()
    if not strides or min(strides) < 1:
        raise argparse.ArgumentTypeError("expected comma-separated integers >= 1, such as 3,4,5")
    return strides


def build_parser() -> ArgumentParser:
    import argparse

    from ..data import KINDS

    p = ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=Path, required=True, help="folder of conditioning images (png, jpg, webp)")
    p.add_argument("--trajectories", type=Path, required=True,
                   help="folder of trajectory files (or one file), or a dataset root with --dataset-kind")
    p.add_argument("--out", type=Path, required=True, help="folder of clips (one sub-folder per clip)")
    p.add_argument("--dataset-kind", type=choice(*KINDS), default=None, help=f"read SOURCE as a dataset: {KINDS}")
    p.add_argument("--strides", type=strides_arg, default=None, help="frame strides of a clip's window, e.g. 3,4,5")
    p.add_argument("--clips-per-image", type=positive_int, default=1)
    p.add_argument("--seed", type=nonnegative_int, default=0, help="pairing, windows and sampler noise")
    p.add_argument("--shard", type=shard_arg, default=None, help="i/n: this machine's share (default RANK/WORLD_SIZE)")
    p.add_argument("--model", type=Path, default=None, help="model family (default: the bundled demo family)")
    p.add_argument("--steps", type=positive_int, default=None, help="denoising steps (default: the family's)")
    p.add_argument("--guidance", type=finite_float(min=0), default=None, help="guidance scale (default: the family's)")
    p.add_argument("--prompt", default=None, help="text prompt of every clip (default: the family's)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--dtype", choices=("auto", "float32", "bfloat16", "float16"), default="auto")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def env_shard() -> tuple[int, int]:
    """(RANK, WORLD_SIZE) as torchrun / accelerate set them, else (0, 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return (int(os.environ.get("RANK", "0")), world) if world > 1 else (0, 1)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s")
    warnings.formatwarning = lambda msg, cat, *a, **k: f"{PROG}: warning: {msg}\n"

    # 1. Every check before a model loads; nothing is written unless all pass.
    from ..pipeline.make_clips import prepare, run
    from ..pipeline.manifest import read_manifest
    from .generate import default_model_dir, resolve_device_dtype

    try:
        check_output_dir(args.out, "--out")
        manifest = read_manifest(args.model or default_model_dir())
        device, dtype = resolve_device_dtype(args.device, args.dtype)
        plan = prepare(args.images, args.trajectories, args.out, manifest, args.dataset_kind, args.strides,
                       args.clips_per_image, args.seed, args.steps, args.guidance, args.prompt,
                       args.shard or env_shard())
    except InputError as e:
        parser.error(str(e))

    # 2. Load the family once, make this shard's clips.
    from ..pipeline import WonderlandPipeline

    pipe = WonderlandPipeline.from_pretrained(manifest.root, device=device, dtype=dtype)
    pipe.set_progress_bar(False)
    summary = run(plan, pipe, progress=not args.quiet)
    if not args.quiet:
        print(f"{args.out}: {summary['written']} written, {summary['already_done']} already done, "
              f"{summary['skipped']} skipped, {summary['failed']} failed (shard {plan.shard[0]}/{plan.shard[1]})")
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
