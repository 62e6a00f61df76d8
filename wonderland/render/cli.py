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

from wonderland.errors import InputError
from wonderland.gaussians import load_scene
from wonderland.geometry import Cameras
from wonderland.trajectories import load_trajectory, make_preset
from wonderland.trajectories.cli import PRESET_PARAMS
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wonderland-render", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scene", help="Gaussian scene: .ply (3DGS layout) or .splat")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--trajectory", help="trajectory file (JSON, RE10K .txt, transforms.json)")
    src.add_argument("--preset", help="named preset trajectory, e.g. orbit")
    p.add_argument("--frames", type=int, default=None, help="preset frame count (default 49); checked for files")
    p.add_argument("--height", type=int, default=None, help="output height (default: the trajectory's, 480)")
    p.add_argument("--width", type=int, default=None, help="output width (default: the trajectory's, 720)")
    p.add_argument("--fov", type=float, default=50.0, help="preset vertical field of view in degrees")
    for name in PRESET_PARAMS:  # the preset's 'depth' is --preset-depth: --depth asks for a depth video
        p.add_argument(f"--preset-{name}" if name == "depth" else f"--{name}", dest=f"preset_{name}", type=float,
                       default=None, help=f"preset parameter '{name}'")
    p.add_argument("--out", required=True, help="output .mp4")
    p.add_argument("--depth", dest="depth_video", action="store_true", help="also write <out>_depth.mp4")
    p.add_argument("--fps", type=float, default=8.0)
    p.add_argument("--background", type=float, nargs=3, default=(0.0, 0.0, 0.0), metavar=("R", "G", "B"))
    p.add_argument("--backend", choices=("auto", "reference", "gsplat"), default="auto")
    return p


def cameras_from_args(args: argparse.Namespace) -> Cameras:
    if args.preset is not None:
        params = {k: getattr(args, f"preset_{k}") for k in PRESET_PARAMS if getattr(args, f"preset_{k}") is not None}
        return make_preset(args.preset, args.frames or 49, args.height or 480, args.width or 720, args.fov, **params)
    cams = load_trajectory(args.trajectory, args.frames, args.height, args.width)
    if (args.height or cams.height, args.width or cams.width) != (cams.height, cams.width):
        cams = cams.resize(args.height or cams.height, args.width or cams.width)
    return cams


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    try:
        if out.suffix.lower() != ".mp4":
            raise InputError(out, None, "output must be an .mp4 file")
        scene = load_scene(args.scene)
        cameras = cameras_from_args(args)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        rgb, alpha, depth = render_video(scene.to(device), cameras, torch.tensor(args.background, device=device),
                                         args.backend)
        write_video(out, rgb, fps=args.fps)
        if args.depth_video:
            write_video(out.with_name(f"{out.stem}_depth.mp4"), colorize_depth(depth, alpha), fps=args.fps)
    except (InputError, OSError) as e:
        print(f"wonderland-render: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out}" + (f" and {out.with_name(f'{out.stem}_depth.mp4')}" if args.depth_video else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
