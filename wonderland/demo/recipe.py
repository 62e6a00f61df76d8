"""The bundled demo family's recipe (`make demo-models`; MODEL_CARD.md has the stages and their numbers).

    python scripts/train_demo_models.py --out models/wonderland-demo          # steps 1 (from nothing)
    python scripts/finetune_demo_models.py --family models/wonderland-demo     # steps 2-4 (options per step)

`train_family` (step 1): renders wonderland-synth scenes (train: dataset seed 0; held-out: seed 1) at 32 x 48,
49 frames; trains the tiny VAE (vae_stage.py); encodes the scenes into the latent cache; trains the small I2V
base and then its camera branches with `camera_video.train` (`stage=base`, `stage=camera`), while a second
process trains the tiny LaLRM with `lalrm.train` on the VAE's latents; writes the family (`save_family`) and
`training.json` (steps, losses, wall times).

`finetune_family` (steps 2-4): fine-tunes a family without moving its latent space: the VAE decoder only
(`train_decoder`) and the LaLRM continued from its weights (`lalrm.train` with `stage.init_from`), concurrently;
`--lalrm-frames 49 --lalrm-full-res` continues it on whole clips at full size and `--lalrm-color-tv` weights the
colour-map smoothness term. The video model is copied byte for byte; `--out` may be `--family` itself (replaced
only once everything is written).

Every stage runs in its own folder under `--work` on the shared training loop: an interrupted recipe resumes
its stages with `--resume` (without it, the stage folders are cleared and the stages start over).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from ..checks import finite_float, nonnegative_int, positive_int
from ..cli_args import ArgumentParser
from ..io import publish_dir
from .common import HEIGHT, HELDOUT_SEED, NUM_FRAMES, TRAIN_SEED, WIDTH, load_clips, write_scenes

DEFAULTS = {"num_inference_steps": 10, "guidance_scale": 1.0, "prompt": ""}


def _pool(threads: int) -> ProcessPoolExecutor:
    """A second process for the LaLRM, the threads split between it and this one (oversubscribed cores made
    both stages 10-20x slower)."""
    half = max(1, threads // 2)
    torch.set_num_threads(max(1, threads - half))
    return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=torch.set_num_threads,
                               initargs=(half,))


def _fresh(*folders: Path) -> None:
    for f in folders:
        shutil.rmtree(f, ignore_errors=True)


# ---- step 1 ---------------------------------------------------------------------------------------------
def train_parser() -> ArgumentParser:
    p = ArgumentParser(prog="train_demo_models.py", description=__doc__)
    p.add_argument("--out", type=Path, default=Path("models/wonderland-demo"))
    p.add_argument("--work", type=Path, default=Path("outputs/demo_training"), help="data and the stages' runs")
    p.add_argument("--scenes", type=positive_int, default=64, help="training scenes")
    p.add_argument("--heldout-scenes", type=positive_int, default=8)
    p.add_argument("--vae-steps", type=positive_int, default=1500)
    p.add_argument("--base-steps", type=positive_int, default=1500)
    p.add_argument("--camera-steps", type=positive_int, default=1500)
    p.add_argument("--lalrm-steps", type=positive_int, default=1500)
    p.add_argument("--threads", type=positive_int, default=2)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where the trainers run (each stage's trainer.device; auto: CUDA when present)")
    p.add_argument("--resume", action="store_true", help="continue the stages of an interrupted run in --work")
    p.add_argument("--vae-recolour", type=finite_float(0, 1), default=0.0, metavar="P",
                   help="share of VAE training crops with permuted, rescaled colour channels (0: the committed "
                        "family's recipe; see MODEL_CARD 'Making it better')")
    p.add_argument("--vae-from", type=Path, default=None, metavar="FAMILY",
                   help="take the VAE of an existing family and train every other stage")
    return p


def check_device(p: ArgumentParser, device: str) -> None:
    if device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: torch sees no CUDA device here (expected auto or cpu)")


def parse_train_args(argv=None):
    p = train_parser()
    args = p.parse_args(argv)
    check_device(p, args.device)
    args.vae_dir = None
    if args.vae_from is not None:  # the family's own manifest says where its VAE is (and checks it)
        from ..errors import InputError
        from ..pipeline.manifest import read_manifest

        try:
            args.vae_dir = read_manifest(args.vae_from).vae
        except InputError as e:
            p.error(f"--vae-from {args.vae_from}: not a family with a VAE: {e}")
        if not (args.vae_from / "training.json").is_file():
            p.error(f"--vae-from {args.vae_from}: training.json is missing (expected a family written by this recipe)")
    return args


def train_family(argv=None) -> int:
    from diffusers import CogVideoXDPMScheduler

    from camera_video.data import PromptEmbeddings
    from camera_video.models import BASE_SMALL, SCHEDULER_5B_I2V, load_base, load_camera_transformer
    from lalrm.model import LaLRM

    from ..io import write_json
    from ..pipeline.family import save_family
    from ..vae import load_vae
    from .lalrm_stage import train_lalrm
    from .vae_stage import reconstruction_psnr, train_vae
    from .video_stage import encode_clips, train_stage

    args = parse_train_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    work = args.work
    runs = {k: work / k for k in ("vae_run", "vae", "cache", "base", "camera", "lalrm")}
    if not args.resume:
        _fresh(*runs.values())
    t0, report = time.perf_counter(), {"threads": args.threads, "device": args.device, "height": HEIGHT, "width": WIDTH,
                                       "num_frames": NUM_FRAMES, "trainers": "camera_video.train, lalrm.train, "
                                       "wonderland.demo.vae_stage (wonderland.training)"}
    train_root = write_scenes(work / "data" / "train", args.scenes, TRAIN_SEED)
    heldout_root = write_scenes(work / "data" / "heldout", args.heldout_scenes, HELDOUT_SEED)
    clips, heldout = load_clips(train_root), load_clips(heldout_root)
    report["data"] = {"train_scenes": len(clips), "train_seed": TRAIN_SEED, "heldout_scenes": len(heldout),
                      "heldout_seed": HELDOUT_SEED, "seconds": time.perf_counter() - t0}

    t1 = time.perf_counter()
    if args.vae_from is not None:
        vae = load_vae(args.vae_dir)
        report["vae"] = {**json.loads((args.vae_from / "training.json").read_text())["vae"], "from": str(args.vae_from)}
    else:
        vae, report["vae"] = train_vae(clips, args.vae_steps, runs["vae_run"], recolour_p=args.vae_recolour,
                                       device=args.device)
        report["vae"]["seconds"] = time.perf_counter() - t1
    vae.save_pretrained(runs["vae"])  # the LaLRM process reads it from here (--out is replaced at the end)
    report["vae"]["heldout_reconstruction_psnr"] = reconstruction_psnr(vae, heldout)
    logging.info("vae: %s", report["vae"])

    # The LaLRM needs only the VAE: it trains in a second process while the video model trains here.
    with _pool(args.threads) as pool:
        lalrm_job = pool.submit(train_lalrm, train_root.resolve(), runs["vae"].resolve(), runs["lalrm"].resolve(),
                                args.lalrm_steps, device=args.device)
        t1 = time.perf_counter()
        encode_clips(vae, train_root, runs["cache"])
        report["encode_seconds"] = time.perf_counter() - t1
        for stage, steps, seed, pretrained in (("base", args.base_steps, 0, None),
                                               ("camera", args.camera_steps, 1, runs["base"] / "model")):
            t1 = time.perf_counter()
            _, report[stage] = train_stage(stage, runs["cache"], runs[stage], steps, seed, pretrained,
                                           device=args.device)
            report[stage]["seconds"] = time.perf_counter() - t1
            logging.info("%s: %s", stage, report[stage])
        report["lalrm"] = lalrm_job.result()
    logging.info("lalrm: %s", report["lalrm"])

    base = load_base(runs["base"] / "model")
    camera = load_camera_transformer(load_base(runs["base"] / "model"), runs["camera"] / "model")
    lalrm = LaLRM.from_pretrained(runs["lalrm"] / "model").eval()
    prompts = PromptEmbeddings(None, BASE_SMALL["max_text_seq_length"], BASE_SMALL["text_embed_dim"], seed=0)
    embeds = prompts([""])  # (1, L, D): the fixed embedding every training clip saw (no captions)
    tmp = args.out.with_name(args.out.name + ".tmp")
    _fresh(tmp)
    save_family(tmp, base, camera, vae, CogVideoXDPMScheduler(**SCHEDULER_5B_I2V), lalrm, HEIGHT, WIDTH, NUM_FRAMES,
                name="wonderland-demo", prompt_embeds=embeds, negative_prompt_embeds=embeds.clone(),
                defaults=DEFAULTS)
    report["total_seconds"] = time.perf_counter() - t0
    write_json(tmp / "training.json", report)
    publish_dir(tmp, args.out)
    print(f"wrote {args.out} in {report['total_seconds'] / 60:.1f} min")
    return 0


# ---- steps 2-4 ------------------------------------------------------------------------------------------
def finetune_parser() -> ArgumentParser:
    p = ArgumentParser(prog="finetune_demo_models.py", description=__doc__)
    p.add_argument("--family", type=Path, default=Path("models/wonderland-demo"), help="the family to start from")
    p.add_argument("--out", type=Path, default=Path("models/wonderland-demo"))
    p.add_argument("--work", type=Path, default=Path("outputs/demo_finetune"), help="data and the stages' runs")
    p.add_argument("--scenes", type=positive_int, default=256, help="training scenes")
    p.add_argument("--heldout-scenes", type=positive_int, default=8)
    p.add_argument("--decoder-steps", type=nonnegative_int, default=1600, help="0: keep the family's VAE as it is")
    p.add_argument("--decoder-stop-after", type=nonnegative_int, default=400,
                   help="stop the decoder's --decoder-steps schedule after this many steps (0: run it all)")
    p.add_argument("--decoder-lr", type=finite_float(0, min_open=True), default=5e-4)
    p.add_argument("--lalrm-steps", type=positive_int, default=700)
    p.add_argument("--lalrm-lr", type=finite_float(0, min_open=True), default=3e-4)
    p.add_argument("--lalrm-frames", type=positive_int, default=9,
                   help="LaLRM clip length: 9 (stride 6) or 49 (every frame)")
    p.add_argument("--lalrm-full-res", action="store_true", help="supervise the LaLRM at 32 x 48, not 16 x 24")
    p.add_argument("--lalrm-color-tv", type=finite_float(0), default=0.0,
                   help="weight of the LaLRM's colour-map smoothness term (loss.color_tv)")
    p.add_argument("--threads", type=positive_int, default=2)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where the trainers run (each stage's trainer.device; auto: CUDA when present)")
    p.add_argument("--resume", action="store_true", help="continue the stages of an interrupted run in --work")
    return p


def parse_finetune_args(argv=None):
    from ..errors import InputError
    from ..pipeline.manifest import read_manifest
    from .lalrm_stage import clip_stride

    p = finetune_parser()
    args = p.parse_args(argv)
    check_device(p, args.device)
    try:  # checked here, before any scene is rendered
        args.manifest = read_manifest(args.family)
    except InputError as e:
        p.error(f"--family {args.family}: not a model family: {e}")
    if not (args.family / "training.json").is_file():
        p.error(f"--family {args.family}: training.json is missing (expected a family written by this recipe)")
    try:
        clip_stride(args.lalrm_frames)
    except ValueError as e:
        p.error(f"--lalrm-frames {args.lalrm_frames}: {e}")
    return args


def finetune_family(argv=None) -> int:
    from lalrm.model import LaLRM

    from ..io import write_json
    from ..vae import load_vae
    from .lalrm_stage import train_lalrm

    args = parse_finetune_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    t0 = time.perf_counter()
    runs = {k: args.work / k for k in ("decoder", "lalrm")}
    if not args.resume:
        _fresh(*runs.values())
    train_root = write_scenes(args.work / "data" / "train", args.scenes, TRAIN_SEED)
    clips = load_clips(train_root)
    report = {"train_scenes": len(clips), "train_seed": TRAIN_SEED, "threads": args.threads, "device": args.device,
              "data_seconds": time.perf_counter() - t0}
    # The LaLRM reads latents through the family's VAE; its encoder is the one every stage keeps.
    lalrm_args = (train_root.resolve(), args.manifest.vae.resolve(), runs["lalrm"].resolve(), args.lalrm_steps,
                  args.lalrm_lr, args.manifest.lalrm.resolve(), args.lalrm_frames, args.lalrm_full_res,
                  args.lalrm_color_tv, args.device)
    vae = None
    if args.decoder_steps == 0:  # the LaLRM alone, on every thread; the family's VAE is copied as it is
        torch.set_num_threads(args.threads)
        report["lalrm"] = train_lalrm(*lalrm_args)
    else:
        heldout = load_clips(write_scenes(args.work / "data" / "heldout", args.heldout_scenes, HELDOUT_SEED))
        vae, report = _decoder_beside_lalrm(args, load_vae(args.manifest.vae), clips, heldout, lalrm_args, report,
                                            runs["decoder"])
    logging.info("lalrm: %s", report["lalrm"])
    lalrm = LaLRM.from_pretrained(runs["lalrm"] / "model")

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
    publish_dir(tmp, args.out)
    print(f"wrote {args.out} in {report['total_seconds'] / 60:.1f} min")
    return 0


def copy_family(src: Path, dst: Path) -> None:
    """src -> dst without the evaluations of src's weights (they would describe other weights)."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("eval_*.json", "validation_*.png", "test_*.png"))


def _decoder_beside_lalrm(args, vae, clips, heldout, lalrm_args: tuple, report: dict, run: Path) -> tuple[object, dict]:
    """Trains the VAE decoder here while `train_lalrm(*lalrm_args)` runs in a second process, the threads split
    between them; -> (vae, report with "vae_decoder" and "lalrm")."""
    from .lalrm_stage import train_lalrm
    from .vae_stage import reconstruction_psnr, train_decoder

    with _pool(args.threads) as pool:
        lalrm_job = pool.submit(train_lalrm, *lalrm_args)
        before = {"heldout_reconstruction_psnr": reconstruction_psnr(vae, heldout)}
        encoder = {k: v.clone() for k, v in vae.encoder.state_dict().items()}
        scale = vae.config.scaling_factor
        vae, report["vae_decoder"] = train_decoder(vae, clips, args.decoder_steps, run, lr=args.decoder_lr,
                                                   stop_after=args.decoder_stop_after or None, device=args.device)
        # the promise the video model and the LaLRM rely on
        if vae.config.scaling_factor != scale or not all(
                torch.equal(v, encoder[k]) for k, v in vae.encoder.state_dict().items()):
            raise RuntimeError("the VAE encoder moved while only its decoder was to train")
        report["vae_decoder"] |= before | {"heldout_reconstruction_psnr_after": reconstruction_psnr(vae, heldout)}
        logging.info("vae decoder: %s", report["vae_decoder"])
        report["lalrm"] = lalrm_job.result()
    return vae, report
