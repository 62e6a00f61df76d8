"""`wonderland-generate IMAGE... --trajectory FILE | --preset NAME`: images -> 3D Gaussian scenes.

Every input is checked (images readable, trajectories valid, model directory complete, output
writable) before any model is loaded; a bad input is a one-line error with exit status 2. With
several inputs, the models are loaded once, one failing input is reported and the rest go on.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..checks import check_output_dir, device, existing_file, finite_float, positive_int, seed
from ..cli_args import ArgumentParser
from ..errors import InputError
from ..trajectories import PRESETS
from ..trajectories.cli import add_preset_arguments, check_preset_args, preset_from_args

PROG = "wonderland-generate"


@dataclass
class Job:
    image: Path
    trajectory: Path | None
    out: Path


def default_model_dir() -> Path:
    """The bundled default model family (see models/README.md)."""
    return Path(__file__).resolve().parents[2] / "models" / "wonderland-demo"


def trajectory_source(text: str) -> Path | str:
    """--trajectory: 'auto' or an existing file."""
    return AUTO if text == AUTO else existing_file(text)


AUTO = "auto"


def check_auto(args: argparse.Namespace, manifest) -> None:
    """--trajectory auto needs a family with a pose stream (VideoRFSplat: manifest key "pose_stream"); --pose-schedule
    goes with it only. A generated path is one clip: --frames N (the preset option) must be the model's frame count."""
    if args.trajectory != AUTO:
        if args.pose_schedule != "async":
            raise InputError(None, "--pose-schedule", "goes with --trajectory auto", value=args.pose_schedule)
        return
    if manifest.pose_stream is None:
        raise InputError(None, "--trajectory", f"the model family '{manifest.name}' has no pose stream to propose "
                         "a camera path; give --trajectory FILE or --preset NAME", value=AUTO)
    if args.frames is not None and args.frames != manifest.num_frames:
        raise InputError(None, "--frames", f"the model family '{manifest.name}' generates paths of "
                         f"{manifest.num_frames} frames (one clip)", value=args.frames)
    if args.poses != "trajectory":
        raise InputError(None, "--poses", "--trajectory auto reconstructs with the generated path", value=args.poses)
    if args.list is not None:
        raise InputError(None, "--list", "--trajectory auto takes images on the command line")


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images", nargs="*", type=Path, help="input image(s)")
    src = p.add_argument_group("camera path (one of)")
    src.add_argument("--trajectory", type=trajectory_source,
                     help="trajectory file (project JSON, RE10K .txt, transforms.json), or 'auto': the model proposes "
                     "the path (needs a family with a pose stream)")
    src.add_argument("--pose-schedule", choices=("async", "sync"), default="async",
                     help="with --trajectory auto: the pose stream's schedule, t_R = max(t_I - 0.2, 0) or t_R = t_I")
    src.add_argument("--preset", choices=sorted(PRESETS), metavar="NAME",
                     help="named preset (orbit, spiral, dolly_in, ...) with the preset options below")
    p.add_argument("--list", type=existing_file, help="text file of 'image [trajectory]' lines, processed in one run")
    add_preset_arguments(p)
    p.set_defaults(frames=None)  # given or not: --trajectory auto checks it (a preset's default stays 49: main)
    p.add_argument("--prompt", default=None, help="text prompt (default: the model family's)")
    p.add_argument("--model", default=None, help="model directory with wonderland.json, or a Hugging Face "
                   "repo id owner/name (default: the bundled demo family)")
    p.add_argument("--out", type=Path, default=None, help="output directory (default outputs/<image-stem>/)")
    p.add_argument("--seed", type=seed, default=0, help="in [0, 2**32 - 1]")
    p.add_argument("--steps", type=positive_int, default=None, help="denoising steps, >= 1 (default: the model's)")
    p.add_argument("--guidance", type=finite_float(0), default=None, help="classifier-free guidance scale, >= 0 "
                   "(<= 1: no guidance)")
    p.add_argument("--device", type=device, default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--dtype", choices=("auto", "float32", "bfloat16", "float16"), default="auto")
    p.add_argument("--offload", choices=("none", "model", "sequential"), default="none")
    from camera_video.speed import CACHES, SCHEDULERS  # light: no torch

    p.add_argument("--camera-guidance", type=finite_float(0), default=None, metavar="S",
                   help="camera guidance: v = v_base + S (v_camera - v_base), the model without its camera as the "
                   "unconditional; 1 = none (default: the model family's; README 'Camera guidance')")
    speed = p.add_argument_group("sampling speed (each off by default; README 'Faster sampling')")
    speed.add_argument("--scheduler", choices=("default", *SCHEDULERS), default="default", metavar="NAME",
                       help="default (the model's), " + ", ".join(SCHEDULERS) + " (v-prediction, zero terminal SNR)")
    speed.add_argument("--cache", choices=CACHES, default="none",
                       help="step cache: fbc (first-block cache) or pab (pyramid attention broadcast)")
    speed.add_argument("--cache-threshold", type=finite_float(0), default=0.05,
                       help="fbc: relative change of block 0's residual below which a step is reused, >= 0")
    speed.add_argument("--compile", action="store_true", help="torch.compile the transformer blocks")
    speed.add_argument("--dynamic-cfg", action="store_true", help="dynamic guidance (the CogVideoX I2V demo's)")
    speed.add_argument("--fuse-lora", action="store_true", help="merge the camera-LoRA into the frozen weights")
    p.add_argument("--no-alignment", action="store_true", help="ignore the family's VIST3A alignment-LoRA "
                   "(wonderland.align) and sample the unaligned camera model")
    p.add_argument("--poses", choices=("trajectory", "colmap"), default="trajectory",
                   help="reconstruct with the conditioning poses, or re-estimate them with COLMAP")
    p.add_argument("--render-trajectory", type=existing_file, default=None, help="camera path of flythrough.mp4")
    p.add_argument("--min-opacity", type=finite_float(0, 1), default=0.0,
                   help="drop Gaussians below this opacity on export, in [0, 1]")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    walk = p.add_argument_group("long walks (a trajectory longer than the model's clip is generated in chunks)")
    walk.add_argument("--chunk-overlap", type=int, default=None, help="frames consecutive chunks share, the "
                      "conditioning frame included (default 1 with --merge previous, 3 with align)")
    walk.add_argument("--merge", choices=("previous", "align"), default="previous",
                      help="where chunks overlap: keep the earlier chunk's Gaussians, or first fit a similarity")
    walk.add_argument("--resume", action="store_true", help="continue after the last finished chunk in OUT/chunks/")
    return p


def collect_jobs(args: argparse.Namespace) -> list[Job]:
    pairs: list[tuple[Path, Path | None]] = [(im, args.trajectory) for im in args.images]
    if args.list is not None:
        if not args.list.is_file():
            raise InputError(args.list, None, "list file not found")
        for n, line in enumerate(args.list.read_text().splitlines(), 1):
            parts = line.split("#")[0].split()
            if not parts:
                continue
            if len(parts) > 2:
                raise InputError(args.list, f"line {n}", "expected 'image [trajectory]'")
            base = args.list.parent
            pairs.append((base / parts[0], base / parts[1] if len(parts) > 1 else args.trajectory))
    if not pairs:
        raise InputError(None, "images", "no input image given")
    if args.trajectory is not None and args.preset is not None:
        raise InputError(None, "--trajectory", "give --trajectory or --preset, not both")
    many = len(pairs) > 1
    jobs = []
    for image, traj in pairs:
        if traj is None and args.preset is None:
            raise InputError(image, "trajectory", "no camera path: give --trajectory FILE or --preset NAME")
        out = (args.out / image.stem if many else args.out) if args.out else Path("outputs") / image.stem
        jobs.append(Job(image, traj, out))
    return jobs


def check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".wonderland-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise InputError(out, None, f"output directory cannot be written ({e.strerror or e})") from None


def resolve_device_dtype(device: str, dtype: str, option: str = "--device"):
    import torch

    dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                       ("cpu" if device == "auto" else device))
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(None, option, "CUDA requested but no CUDA device is available", value=device)
    if dtype == "auto":
        return dev, torch.bfloat16 if dev.type == "cuda" else torch.float32
    return dev, getattr(torch, dtype)


def check_long_job(args: argparse.Namespace, manifest, image, traj, job: Job) -> None:
    """A long walk's checks (chunking, merge, jumps, a resumable state) before any model loads."""
    from ..pipeline.long_navigation import check_long, check_resume, default_overlap

    if args.poses != "trajectory":
        raise InputError(job.trajectory, "poses", "a long walk is placed with the trajectory's cameras; "
                         "--poses colmap works on single clips only")
    overlap = args.chunk_overlap if args.chunk_overlap is not None else default_overlap(args.merge)
    check_long(traj, manifest.num_frames, overlap, args.merge, job.trajectory)
    if args.resume:
        check_resume(manifest, job.out, image, traj, args.prompt, args.seed, args.steps, args.guidance, overlap)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s")
    warnings.formatwarning = lambda msg, cat, *a, **k: f"{PROG}: warning: {msg}\n"

    def fail(e: Exception) -> int:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2

    # 1. Check everything that can be checked before loading a model.
    from camera_video.speed import SamplingOptions

    from ..images import load_image, warn_if_upscaled
    from ..pipeline.hub import resolve_model_dir
    from ..pipeline.manifest import read_manifest
    from ..trajectories import load_trajectory

    try:
        check_preset_args(args.preset, args)  # a preset's own parameters; none without --preset
        if args.out is not None:
            check_output_dir(args.out, "--out")
        jobs = collect_jobs(args)
        model_dir = resolve_model_dir(args.model) if args.model else default_model_dir()
        manifest = read_manifest(model_dir)
        check_auto(args, manifest)
        args.frames = 49 if args.frames is None else args.frames  # the preset option's default
        device, dtype = resolve_device_dtype(args.device, args.dtype)
        render_cams = load_trajectory(args.render_trajectory) if args.render_trajectory else None
        sampling = SamplingOptions(args.scheduler, args.cache, args.cache_threshold, args.compile, args.dynamic_cfg,
                                   args.fuse_lora, args.camera_guidance)
        preset = preset_from_args(args.preset, args) if args.preset else None
    except InputError as e:
        return fail(e)
    ready, failed = [], []
    for job in jobs:
        try:
            image = load_image(job.image)
            warn_if_upscaled(job.image, image, manifest.height, manifest.width)
            # A trajectory without its own image size (RealEstate10K .txt) is read at the image's when they agree.
            if job.trajectory == AUTO:
                traj = AUTO
            else:
                traj = preset if job.trajectory is None else load_trajectory(job.trajectory,
                                                                               image_size=tuple(image.shape[-2:]))
            if not isinstance(traj, str) and len(traj) > manifest.num_frames:
                check_long_job(args, manifest, image, traj, job)
            check_writable(job.out)
            ready.append((job, image, traj))
        except InputError as e:
            print(f"{PROG}: error: {e}", file=sys.stderr)
            failed.append(job)
    if not ready:
        return 2

    # 2. Load the models once, run every input.
    from ..pipeline import WonderlandPipeline
    from ..pipeline.outputs import write_outputs

    pipe = WonderlandPipeline.from_pretrained(manifest.root, device=device, dtype=dtype, offload=args.offload,
                                              sampling=sampling, alignment=not args.no_alignment)
    pipe.set_progress_bar(not args.quiet)
    for job, image, traj in ready:
        t0 = time.perf_counter()
        try:
            pipe.stats = {k: v for k, v in pipe.stats.items() if k == "load"}
            extra = None
            if isinstance(traj, str):  # AUTO
                result = pipe.generate_auto(image, prompt=args.prompt, seed=args.seed, num_inference_steps=args.steps,
                                            guidance_scale=args.guidance, pose=args.pose_schedule)
            elif len(traj) > manifest.num_frames:
                result = pipe.generate_long(image, traj, prompt=args.prompt, seed=args.seed,
                                            num_inference_steps=args.steps, guidance_scale=args.guidance,
                                            overlap=args.chunk_overlap, merge=args.merge, out_dir=job.out,
                                            resume=args.resume)
                extra = result.report()
            else:
                result = pipe(image, traj, prompt=args.prompt, seed=args.seed, num_inference_steps=args.steps,
                              guidance_scale=args.guidance, poses=args.poses)
            render = None
            if render_cams is not None:
                render = render_cams.center_crop_resize(manifest.height, manifest.width)
            settings = {"image": str(job.image), "trajectory": str(job.trajectory or f"preset:{args.preset}"),
                        "model": str(manifest.root), "seed": args.seed, "steps": args.steps,
                        "guidance": args.guidance, "prompt": args.prompt, "device": str(device),
                        "dtype": str(dtype).removeprefix("torch."), "offload": args.offload, "poses": args.poses,
                        "sampling": sampling.to_dict()}
            if extra is not None:
                settings |= {"chunk_overlap": result.overlap, "merge": args.merge, "resume": args.resume}
            write_outputs(result, job.out, settings, fps=manifest.fps, render_cameras=render,
                          min_opacity=args.min_opacity, progress=not args.quiet, report_extra=extra)
        except InputError as e:
            print(f"{PROG}: error: {e}", file=sys.stderr)
            failed.append(job)
            continue
        if not args.quiet:
            print(f"{job.image} -> {job.out}/ ({time.perf_counter() - t0:.1f} s)")
    if failed:
        print(f"{PROG}: {len(failed)} of {len(jobs)} input(s) failed: {', '.join(str(j.image) for j in failed)}",
              file=sys.stderr)
        return 2 if len(failed) == len(jobs) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
