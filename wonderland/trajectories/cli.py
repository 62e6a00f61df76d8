"""`wonderland-trajectory`: write preset trajectories, plot any trajectory file, densify keyframes.

    wonderland-trajectory preset orbit --degrees 90 --out orbit.json
    wonderland-trajectory show orbit.json --out orbit.png
    wonderland-trajectory interpolate keys.json --frames 49 --out path.json
"""

from __future__ import annotations

import argparse
import sys

from ..errors import InputError
from .format import CONVENTIONS, load_trajectory, save_trajectory
from .interpolate import interpolate_keyframes
from .plot import plot_trajectory
from .presets import PRESETS, make_preset

PRESET_PARAMS = ("degrees", "depth", "distance", "radius", "turns", "forward", "factor", "speed")


def add_preset_arguments(p: argparse.ArgumentParser) -> None:
    """Preset options shared with `wonderland-generate --preset` and `wonderland-render --preset`."""
    p.add_argument("--frames", type=int, default=49, help="frame count (default 49, the model's)")
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--width", type=int, default=720)
    p.add_argument("--fov", type=float, default=50.0, help="vertical field of view in degrees")
    for name in PRESET_PARAMS:
        p.add_argument(f"--{name}", type=float, default=None, help=f"preset parameter '{name}'")


def preset_from_args(name: str, args: argparse.Namespace):
    params = {k: getattr(args, k) for k in PRESET_PARAMS if getattr(args, k) is not None}
    return make_preset(name, args.frames, args.height, args.width, args.fov, **params)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wonderland-trajectory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("preset", help="write a named preset trajectory")
    p.add_argument("name", choices=sorted(PRESETS))
    add_preset_arguments(p)
    p.add_argument("--convention", choices=CONVENTIONS, default="opencv_c2w")
    p.add_argument("--out", required=True)
    s = sub.add_parser("show", help="plot a trajectory file (JSON, RE10K .txt, transforms.json) to PNG")
    s.add_argument("trajectory")
    s.add_argument("--out", required=True)
    i = sub.add_parser("interpolate", help="densify a keyframe trajectory (slerp + Catmull-Rom)")
    i.add_argument("trajectory")
    i.add_argument("--frames", type=int, default=49)
    i.add_argument("--out", required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "preset":
            save_trajectory(args.out, preset_from_args(args.name, args), args.convention,
                            metadata={"preset": args.name})
        elif args.command == "show":
            plot_trajectory(load_trajectory(args.trajectory), args.out, title=args.trajectory)
        else:
            save_trajectory(args.out, interpolate_keyframes(load_trajectory(args.trajectory), args.frames))
    except InputError as e:
        print(f"wonderland-trajectory: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"wonderland-trajectory: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
