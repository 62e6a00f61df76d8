"""`wonderland-render`: fly a camera through a Gaussian scene and write an mp4.

    wonderland-render scene.ply --trajectory orbit.json --out flythrough.mp4
    wonderland-render scene.splat --preset orbit --frames 49 --height 480 --width 720 --out orbit.mp4 --depth

`--depth` also writes `<out>_depth.mp4`: the visible surface's depth (accumulated depth / alpha),
colour-mapped with turbo (near = red) between the 2nd and 98th percentile of the whole video, so colours
mean the same depth in every frame; pixels with alpha < 0.5 are black.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from jaxtyping import Float
from torch import Tensor

from wonderland.checks import check_int, existing_file, finite_float, input_file, output_file, positive_int
from wonderland.cli_args import ArgumentParser
from wonderland.errors import InputError
from wonderland.gaussians import load_scene
from wonderland.geometry import Cameras
from wonderland.trajectories import PRESETS, load_trajectory, make_preset
from wonderland.trajectories.cli import PRESET_PARAMS, check_preset_args
from wonderland.trajectories.format import DEFAULT_SIZE
from wonderland.video import write_video

from .sequence import render_video


def colorize_depth(depth: Float[Tensor, "f 1 h w"], alpha: Float[Tensor, "f 1 h w"]) -> Float[Tensor, "f 3 h w"]:
    """Turbo colour map of depth / alpha, normalised over the whole video (see module docstring)."""
    from matplotlib import colormaps

    visible = alpha > 0.5
    surface = depth / alpha.clamp_min(1e-6)
    if not visible.any():
        return torch.zeros(depth.shape[0], 3, *depth.shape[2:])
    lo, hi = torch.quantile(surface[visible].float()[:1_000_000], torch.tensor([0.02, 0.98]))
    t = 1 - ((surface - lo) / (hi - lo).clamp_min(1e-6)).clamp(0, 1)  # near = 1 = red end of turbo
    rgb = torch.from_numpy(colormaps["turbo"](t[:, 0].numpy())[..., :3]).float().permute(0, 3, 1, 2)
    return rgb * visible


BACKENDS = ("auto", "reference", "gsplat")


def _preset_option(name: str) -> str:
    return "--preset-depth" if name == "depth" else f"--{name}"


def _render_backend(text: str) -> str:
    """auto, reference, or gsplat (only with a CUDA device: gsplat has no CPU kernels)."""
    if text not in BACKENDS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(BACKENDS)}")
    if text == "gsplat" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError("expected auto or reference (gsplat needs a CUDA device; none is available)")
    return text


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="wonderland-render", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scene", type=input_file(".ply", ".splat"), help="Gaussian scene: .ply (3DGS layout) or .splat")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--trajectory", type=existing_file, help="trajectory file (JSON, RE10K .txt, transforms.json)")
    src.add_argument("--preset", choices=sorted(PRESETS), help="named preset trajectory, e.g. orbit")
    p.add_argument("--frames", type=positive_int, default=None,
                   help="preset frame count (>= 2, default 49); checked against a trajectory file's")
    p.add_argument("--height", type=positive_int, default=None,
                   help="output height (default: the trajectory's; 480 for presets and RealEstate10K .txt)")
    p.add_argument("--width", type=positive_int, default=None,
                   help="output width (default: the trajectory's; 720 for presets and RealEstate10K .txt); a "
                   "trajectory of another aspect is centre-cropped to it")
    p.add_argument("--fov", type=finite_float(0, 180, min_open=True, max_open=True), default=50.0,
                   help="preset vertical field of view in degrees, in (0, 180)")
    for name in PRESET_PARAMS:  # the preset's 'depth' is --preset-depth: --depth asks for a depth video
        p.add_argument(_preset_option(name), dest=f"preset_{name}", type=finite_float(), default=None,
                       help=f"preset parameter '{name}'")
    p.add_argument("--out", required=True, type=output_file(".mp4"), help="output .mp4")
    p.add_argument("--depth", dest="depth_video", action="store_true", help="also write <out>_depth.mp4")
    p.add_argument("--fps", type=finite_float(1, 240), default=8.0, help="frames per second, in [1, 240]")
    p.add_argument("--background", type=finite_float(0, 1), nargs=3, default=(0.0, 0.0, 0.0), metavar=("R", "G", "B"),
                   help="background colour, each in [0, 1]")
    p.add_argument("--backend", type=_render_backend, default="auto", help="auto, reference or gsplat (CUDA)")
    return p


def cameras_from_args(args: argparse.Namespace) -> Cameras:
    params = check_preset_args(args.preset, args, dest=lambda k: f"preset_{k}", option=_preset_option)
    if args.preset is not None:
        frames = check_int(args.frames, "--frames", min=2) if args.frames is not None else 49
        return make_preset(args.preset, frames, args.height or 480, args.width or 720, args.fov, **params)
    cams = load_trajectory(args.trajectory, args.frames)  # a RealEstate10K .txt at its own 16:9
    default = DEFAULT_SIZE if args.trajectory.suffix == ".txt" else (cams.height, cams.width)
    size = (args.height or default[0], args.width or default[1])
    # Centre-cropped to the output's aspect, as wonderland-generate fits a trajectory to the model (pixels stay square).
    return cams if size == (cams.height, cams.width) else cams.center_crop_resize(*size)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    try:
        cameras = cameras_from_args(args)  # the options first: a bad one is refused before the scene is read
        scene = load_scene(args.scene)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        rgb, alpha, depth = render_video(scene.to(device), cameras, torch.tensor(args.background, device=device),
                                         args.backend)
        write_video(out, rgb, fps=args.fps)
        if args.depth_video:
            write_video(out.with_name(f"{out.stem}_depth.mp4"), colorize_depth(depth, alpha), fps=args.fps)
    except (InputError, OSError) as e:
        print(f"wonderland-render: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    print(f"wrote {out}" + (f" and {out.with_name(f'{out.stem}_depth.mp4')}" if args.depth_video else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
