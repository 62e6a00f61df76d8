"""Train the bundled demo family (`models/wonderland-demo/`) from nothing, in one command:

    python scripts/train_demo_models.py --out models/wonderland-demo [--budget-minutes 25]

1. renders wonderland-synth scenes (train: dataset seed 0; held-out: seed 1) at 32 x 48, 49 frames;
2. trains a tiny AutoencoderKLCogVideoX (scripts/demo/vae_stage.py);
3. pretrains the tiny CogVideoX I2V base, then trains its camera branches on the frozen base
   (scripts/demo/video_stage.py, camera_video's loss and scheduler);
4. trains a tiny LaLRM with `lalrm.train` on the trained VAE's latents (scripts/demo/lalrm_stage.py), in a
   second process, concurrently with step 3;
5. writes the family with `save_family` plus `training.json` (steps, losses, wall times).

Step counts are fixed (reproducible); `--budget-minutes` additionally stops the VAE and video stages
early when their share of the budget is spent (the steps actually taken are recorded in training.json).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import shutil
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo.common import HEIGHT, HELDOUT_SEED, NUM_FRAMES, TRAIN_SEED, WIDTH, load_clips, write_scenes  # noqa: E402

SHARES = {"vae": 0.25, "base": 0.25, "camera": 0.3}  # of --budget-minutes; the rest: data, encoding, LaLRM
DEFAULTS = {"num_inference_steps": 10, "guidance_scale": 1.0, "prompt": ""}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("models/wonderland-demo"))
    p.add_argument("--work", type=Path, default=Path("outputs/demo_training"), help="data and intermediate runs")
    p.add_argument("--budget-minutes", type=float, default=None, help="wall-time cap (default: none)")
    p.add_argument("--scenes", type=int, default=64, help="training scenes")
    p.add_argument("--heldout-scenes", type=int, default=8)
    p.add_argument("--vae-steps", type=int, default=1500)
    p.add_argument("--base-steps", type=int, default=1500)
    p.add_argument("--camera-steps", type=int, default=1500)
    p.add_argument("--lalrm-steps", type=int, default=1500)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reuse", action="store_true",
                   help="take the VAE and the LaLRM of an earlier run in --work (retrain only the video stages)")
    p.add_argument("--vae-recolour", type=float, default=0.0, metavar="P",
                   help="share of VAE training crops with permuted, rescaled colour channels (0: the committed "
                        "family's recipe; see MODEL_CARD 'Making it better')")
    p.add_argument("--vae-from", type=Path, default=None, metavar="FAMILY",
                   help="take the VAE of an existing family (e.g. models/wonderland-demo) and train every other "
                        "stage; its training.json's VAE numbers are carried over")
    args = p.parse_args(argv)
    # checked here, before any scene is rendered
    if args.reuse and args.vae_from is not None:
        p.error("--reuse and --vae-from exclude each other")
    if not 0.0 <= args.vae_recolour <= 1.0:
        p.error(f"--vae-recolour: expected a probability in [0, 1], got {args.vae_recolour}")
    args.vae_dir = None
    if args.vae_from is not None:  # the family's own manifest says where its VAE is (and checks it)
        from wonderland.errors import InputError
        from wonderland.pipeline.manifest import read_manifest

        try:
            args.vae_dir = read_manifest(args.vae_from).vae
        except InputError as e:
            p.error(f"--vae-from {args.vae_from}: not a family with a VAE (vae/config.json is missing): {e}")
        if not (args.vae_from / "training.json").is_file():
            p.error(f"--vae-from {args.vae_from}: training.json is missing (expected a family written by this script)")
    return args


def threads_when_done(job, threads: int):
    """A poll for the training loop: once the LaLRM process is done, this process takes every thread.
    Called from the training thread itself, since OpenMP thread counts are per calling thread."""
    state = {"done": False}

    def poll() -> None:
        if not state["done"] and job.done():
            state["done"] = True
            torch.set_num_threads(threads)
            logging.info("lalrm finished: video training continues on %d threads", threads)

    return poll


def main(argv=None) -> int:
    from demo.lalrm_stage import train_lalrm
    from demo.vae_stage import reconstruction_psnr, train_vae
    from demo.video_stage import encode_clips, train_base, train_camera
    from diffusers import CogVideoXDPMScheduler

    from camera_video.data import PromptEmbeddings
    from camera_video.models import BASE_TINY, SCHEDULER_5B_I2V
    from lalrm.model import LaLRM
    from wonderland.io import write_json
    from wonderland.pipeline.family import save_family
    from wonderland.vae import load_vae

    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    budget = None if args.budget_minutes is None else args.budget_minutes * 60
    share = (lambda k: None) if budget is None else (lambda k: SHARES[k] * budget)  # noqa: E731
    t0, report = time.perf_counter(), {"threads": args.threads, "height": HEIGHT, "width": WIDTH,
                                       "num_frames": NUM_FRAMES, "budget_minutes": args.budget_minutes}

    train_root = write_scenes(args.work / "data" / "train", args.scenes, TRAIN_SEED)
    heldout_root = write_scenes(args.work / "data" / "heldout", args.heldout_scenes, HELDOUT_SEED)
    clips, heldout = load_clips(train_root), load_clips(heldout_root)
    report["data"] = {"train_scenes": len(clips), "train_seed": TRAIN_SEED, "heldout_scenes": len(heldout),
                      "heldout_seed": HELDOUT_SEED, "seconds": time.perf_counter() - t0}

    vae_dir, lalrm_dir = args.work / "vae", args.work / "lalrm"
    if args.reuse:
        earlier = json.loads((args.work / "training.json").read_text())
        vae, report["vae"] = load_vae(vae_dir), earlier["vae"]
        lalrm_job = Future()
        lalrm_job.set_result(earlier["lalrm"])
        pool = None
    else:
        if args.vae_from is not None:
            vae = load_vae(args.vae_dir)
            earlier = json.loads((args.vae_from / "training.json").read_text())["vae"]
            report["vae"] = {**earlier, "from": str(args.vae_from)}
        else:
            vae, report["vae"] = train_vae(clips, args.vae_steps, share("vae"), recolour_p=args.vae_recolour)
        vae.save_pretrained(vae_dir)  # the LaLRM process reads it from here (--out is replaced at the end)
        # The LaLRM needs only the VAE: it trains in a second process while the video model trains here.
        shutil.rmtree(lalrm_dir, ignore_errors=True)
        # The two processes split the threads: oversubscribed cores made both stages 10-20x slower.
        half = max(1, args.threads // 2)
        torch.set_num_threads(max(1, args.threads - half))
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=torch.set_num_threads, initargs=(half,))
        lalrm_job = pool.submit(train_lalrm, train_root, vae_dir, lalrm_dir, args.lalrm_steps)

    report["vae"]["heldout_reconstruction_psnr"] = reconstruction_psnr(vae, heldout)
    logging.info("vae: %s", report["vae"])
    t1 = time.perf_counter()
    cache = encode_clips(vae, clips)
    report["encode_seconds"] = time.perf_counter() - t1
    prompts = PromptEmbeddings(None, BASE_TINY["max_text_seq_length"], BASE_TINY["text_embed_dim"], seed=0)
    poll = threads_when_done(lalrm_job, args.threads)
    base, report["base"] = train_base(cache, clips, prompts, args.base_steps, share("base"), poll=poll)
    logging.info("base: %s", report["base"])
    camera, report["camera"] = train_camera(base, cache, clips, prompts, args.camera_steps, share("camera"),
                                          poll=poll)
    logging.info("camera: %s", report["camera"])

    report["lalrm"] = lalrm_job.result()
    if pool is not None:
        pool.shutdown()
    lalrm = LaLRM.from_pretrained(lalrm_dir / "model").eval()
    logging.info("lalrm: %s", report["lalrm"])

    embeds = prompts([""])  # (1, L, D): the fixed embedding every training clip saw (no captions)
    shutil.rmtree(args.out, ignore_errors=True)
    save_family(args.out, base, camera, vae, CogVideoXDPMScheduler(**SCHEDULER_5B_I2V), lalrm, HEIGHT, WIDTH,
                NUM_FRAMES, name="wonderland-demo", prompt_embeds=embeds, negative_prompt_embeds=embeds.clone(),
                defaults=DEFAULTS)
    report["total_seconds"] = time.perf_counter() - t0
    write_json(args.out / "training.json", report)
    write_json(args.work / "training.json", report)  # what --reuse reads
    print(f"wrote {args.out} in {report['total_seconds'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
