"""`wonderland-trajectory`: write preset trajectories, plot any trajectory file, densify keyframes.

    wonderland-trajectory preset orbit --degrees 90 --out orbit.json
    wonderland-trajectory show orbit.json --out orbit.png
    wonderland-trajectory interpolate keys.json --frames 49 --out path.json
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..checks import existing_file, finite_float, int_range, output_file, positive_int
from ..cli_args import ArgumentParser
from ..errors import InputError
from .format import CONVENTIONS, load_trajectory, save_trajectory
from .interpolate import interpolate_keyframes
from .plot import plot_trajectory
from .presets import PRESETS, check_preset, make_preset

PRESET_PARAMS = ("degrees", "depth", "distance", "radius", "turns", "forward", "factor", "speed")


def add_preset_arguments(p: argparse.ArgumentParser) -> None:
    """Preset options shared with `wonderland-generate --preset` and `wonderland-render --preset`."""
    p.add_argument("--frames", type=int_range(2), default=49, help="frame count, >= 2 (default 49, the model's)")
    p.add_argument("--height", type=positive_int, default=480)
    p.add_argument("--width", type=positive_int, default=720)
    p.add_argument("--fov", type=finite_float(0, 180, min_open=True, max_open=True), default=50.0,
                   help="vertical field of view in degrees, in (0, 180)")
    for name in PRESET_PARAMS:
        p.add_argument(f"--{name}", type=finite_float(), default=None,
                       help=f"preset parameter '{name}'" + (" (> 0)" if name == "factor" else ""))


def given_preset_params(args: argparse.Namespace, dest: Callable[[str], str] = str) -> dict[str, float]:
    return {k: getattr(args, dest(k)) for k in PRESET_PARAMS if getattr(args, dest(k)) is not None}


def check_preset_args(name: str | None, args: argparse.Namespace, dest: Callable[[str], str] = str,
                      option: Callable[[str], str] = lambda k: f"--{k}") -> dict[str, float]:
    """The preset's own parameters, checked against the preset named (one line naming the option when it
    does not take one, e.g. `--degrees 90.0: preset spiral takes --radius, ...`); with no preset, giving a
    preset parameter at all is the error."""
    params = given_preset_params(args, dest)
    if name is None:
        if params:
            key = next(iter(params))
            raise InputError(None, option(key), "is a preset parameter; give --preset NAME too", value=params[key])
        return params
    check_preset(name, params, option)
    return params


def preset_from_args(name: str, args: argparse.Namespace):
    params = check_preset_args(name, args)
    return make_preset(name, args.frames, args.height, args.width, args.fov, **params)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="wonderland-trajectory", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("preset", help="write a named preset trajectory")
    p.add_argument("name", choices=sorted(PRESETS))
    add_preset_arguments(p)
    p.add_argument("--convention", choices=CONVENTIONS, default="opencv_c2w")
    p.add_argument("--out", required=True, type=output_file(".json"), help="output trajectory .json")
    s = sub.add_parser("show", help="plot a trajectory file (JSON, RE10K .txt, transforms.json) to PNG")
    s.add_argument("trajectory", type=existing_file)
    s.add_argument("--out", required=True, type=output_file(".png"), help="output .png")
    i = sub.add_parser("interpolate", help="densify a keyframe trajectory (slerp + Catmull-Rom)")
    i.add_argument("trajectory", type=existing_file)
    i.add_argument("--frames", type=int_range(2), default=49, help="frame count, >= 2")
    i.add_argument("--out", required=True, type=output_file(".json"), help="output trajectory .json")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "preset":
            cams = preset_from_args(args.name, args)  # checked before anything is written
            save_trajectory(args.out, cams, args.convention, metadata={"preset": args.name})
        elif args.command == "show":
            plot_trajectory(load_trajectory(args.trajectory), args.out, title=str(args.trajectory))
        else:
            save_trajectory(args.out, interpolate_keyframes(load_trajectory(args.trajectory), args.frames))
    except (InputError, OSError) as e:
        print(f"wonderland-trajectory: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
