"""Fine-tune a demo family on more scenes without changing its latent space (steps 2, 3 and 4 of the recipe):

    python scripts/finetune_demo_models.py --family models/wonderland-demo --out models/wonderland-demo
    python scripts/finetune_demo_models.py --family models/wonderland-demo --out models/wonderland-demo \
        --decoder-steps 0 --lalrm-frames 49 --lalrm-full-res --lalrm-steps 100 --lalrm-lr 2e-4
    python scripts/finetune_demo_models.py --family models/wonderland-demo --out models/wonderland-demo \
        --decoder-steps 0 --lalrm-frames 49 --lalrm-full-res --lalrm-steps 300 --lalrm-lr 2e-4 --lalrm-color-tv 0.1

1. renders --scenes training scenes (dataset seed 0: the family's own training scenes are the first of them);
2. trains the VAE's decoder only (scripts/demo/vae_stage.py `train_decoder`): the encoder and `scaling_factor`
   are frozen, so the latents the video model and the LaLRM were trained on do not move;
3. continues the LaLRM from the family's weights on the same scenes (`lalrm.train` with `stage.init_from`), in a
   second process, concurrently with step 2 (--decoder-steps 0 skips step 2: the VAE is kept as it is).
   --lalrm-frames sets its clip length (9: stride 6, what steps 1 and 2 train on; 49: every frame, the 13 latent
   frames inference feeds it), --lalrm-full-res supervises it at 32 x 48 instead of 16 x 24 and --lalrm-color-tv
   weights a smoothness term on each frame's Gaussian colour map (`loss.color_tv`);
4. writes the family: a copy of --family with the new VAE decoder and LaLRM weights (the video model is
   unchanged); its training.json's "finetune" list gains an entry. Evaluations of the old weights (eval_*.json and their
   frames) are not carried over. --out may be --family itself: it is replaced only once everything is written.

Why: the recipe's decoders (the VAE's and the LaLRM, which decodes latents into Gaussians) overfit the palettes of
its 64 training scenes, the LaLRM trained on short clips at half size renders colour speckle at full size, and
its translucent layers carry colour noise that only their blend is trained to cancel; MODEL_CARD.md 'Training'
has the measurements.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo.common import HELDOUT_SEED, TRAIN_SEED, load_clips, write_scenes  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--family", type=Path, default=Path("models/wonderland-demo"), help="the family to start from")
    p.add_argument("--out", type=Path, default=Path("models/wonderland-demo"))
    p.add_argument("--work", type=Path, default=Path("outputs/demo_finetune"), help="data and intermediate runs")
    p.add_argument("--scenes", type=int, default=256, help="training scenes")
    p.add_argument("--heldout-scenes", type=int, default=8)
    p.add_argument("--decoder-steps", type=int, default=1600, help="0: keep the family's VAE as it is")
    p.add_argument("--decoder-stop-after", type=int, default=400,
                   help="stop the decoder's --decoder-steps schedule after this many steps (0: run it all)")
    p.add_argument("--decoder-lr", type=float, default=5e-4)
    p.add_argument("--lalrm-steps", type=int, default=700)
    p.add_argument("--lalrm-lr", type=float, default=3e-4)
    p.add_argument("--lalrm-frames", type=int, default=9, help="LaLRM clip length: 9 (stride 6) or 49 (every frame)")
    p.add_argument("--lalrm-full-res", action="store_true", help="supervise the LaLRM at 32 x 48, not 16 x 24")
    p.add_argument("--lalrm-color-tv", type=float, default=0.0,
                   help="weight of the LaLRM's colour-map smoothness term (loss.color_tv)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    from wonderland.errors import InputError
    from wonderland.pipeline.manifest import read_manifest

    try:  # checked here, before any scene is rendered
        args.manifest = read_manifest(args.family)
    except InputError as e:
        p.error(f"--family {args.family}: not a model family: {e}")
    if not (args.family / "training.json").is_file():
        p.error(f"--family {args.family}: training.json is missing (expected a family written by "
                "scripts/train_demo_models.py)")
    if args.scenes < 1 or args.decoder_steps < 0 or args.lalrm_steps < 1 or args.decoder_stop_after < 0:
        p.error("--scenes and --lalrm-steps must be positive (--decoder-steps and --decoder-stop-after >= 0)")
    if args.lalrm_color_tv < 0:
        p.error(f"--lalrm-color-tv must be >= 0 (a loss weight), got {args.lalrm_color_tv}")
    from demo.lalrm_stage import clip_stride

    try:
        clip_stride(args.lalrm_frames)
    except ValueError as e:
        p.error(f"--lalrm-frames: {e}")
    return args


def copy_family(src: Path, dst: Path) -> None:
    """src -> dst without the evaluations of src's weights (they would describe other weights)."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("eval_*.json", "validation_*.png", "test_*.png"))


def replace_dir(tmp: Path, out: Path) -> None:
    """Move a finished `tmp` to `out`; an existing `out` is removed only after `tmp` is in place beside it."""
    old = out.with_name(out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def main(argv=None) -> int:
    from demo.lalrm_stage import train_lalrm

    from lalrm.model import LaLRM
    from wonderland.io import write_json
    from wonderland.vae import load_vae

    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    t0 = time.perf_counter()
    train_root = write_scenes(args.work / "data" / "train", args.scenes, TRAIN_SEED)
    clips = load_clips(train_root)
    report = {"train_scenes": len(clips), "train_seed": TRAIN_SEED, "threads": args.threads,
              "data_seconds": time.perf_counter() - t0}

    # The LaLRM reads latents through the family's VAE; its encoder is the one every stage keeps.
    lalrm_dir = args.work / "lalrm"
    shutil.rmtree(lalrm_dir, ignore_errors=True)
    lalrm_args = (train_root.resolve(), args.manifest.vae.resolve(), lalrm_dir.resolve(), args.lalrm_steps,
                  args.lalrm_lr, args.manifest.lalrm.resolve(), args.lalrm_frames, args.lalrm_full_res,
                  args.lalrm_color_tv)
    vae = None
    if args.decoder_steps == 0:  # the LaLRM alone, on every thread; the family's VAE is copied as it is
        torch.set_num_threads(args.threads)
        report["lalrm"] = train_lalrm(*lalrm_args)
    else:
        heldout = load_clips(write_scenes(args.work / "data" / "heldout", args.heldout_scenes, HELDOUT_SEED))
        vae, report = _decoder_beside_lalrm(args, load_vae(args.manifest.vae), clips, heldout, lalrm_args, report)
    logging.info("lalrm: %s", report["lalrm"])
    lalrm = LaLRM.from_pretrained(lalrm_dir / "model")

    tmp = args.out.with_name(args.out.name + ".tmp")
    copy_family(args.family, tmp)
    rel = lambda p: tmp / p.resolve().relative_to(args.family.resolve())  # noqa: E731
    if vae is not None:
        vae.save_pretrained(rel(args.manifest.vae))
    lalrm.save_pretrained(rel(args.manifest.lalrm))
    training = json.loads((args.family / "training.json").read_text())
    report["from"], report["total_seconds"] = str(args.family), time.perf_counter() - t0
    training.setdefault("finetune", []).append(report)  # a list: a family can be fine-tuned again
    write_json(tmp / "training.json", training)
    replace_dir(tmp, args.out)
    print(f"wrote {args.out} in {report['total_seconds'] / 60:.1f} min")
    return 0


def _decoder_beside_lalrm(args, vae, clips, heldout, lalrm_args: tuple, report: dict) -> tuple[object, dict]:
    """Trains the VAE decoder here while `train_lalrm(*lalrm_args)` runs in a second process, the threads split
    between them; -> (vae, report with "vae_decoder" and "lalrm")."""
    from demo.lalrm_stage import train_lalrm
    from demo.vae_stage import reconstruction_psnr, train_decoder

    half = max(1, args.threads // 2)
    torch.set_num_threads(max(1, args.threads - half))
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=torch.set_num_threads,
                             initargs=(half,)) as pool:
        lalrm_job = pool.submit(train_lalrm, *lalrm_args)
        before = {"heldout_reconstruction_psnr": reconstruction_psnr(vae, heldout)}
        encoder = {k: v.clone() for k, v in vae.encoder.state_dict().items()}
        scale = vae.config.scaling_factor
        vae, report["vae_decoder"] = train_decoder(vae, clips, args.decoder_steps, lr=args.decoder_lr,
                                                   stop_after=args.decoder_stop_after or None)
        # the promise the video model and the LaLRM rely on
        assert vae.config.scaling_factor == scale and all(
            torch.equal(v, encoder[k]) for k, v in vae.encoder.state_dict().items()), "the VAE encoder moved"
        report["vae_decoder"] |= before | {"heldout_reconstruction_psnr_after": reconstruction_psnr(vae, heldout)}
        logging.info("vae decoder: %s", report["vae_decoder"])
        report["lalrm"] = lalrm_job.result()
    return vae, report


if __name__ == "__main__":
    sys.exit(main())
