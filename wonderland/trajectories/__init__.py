"""Camera trajectories: the files users pass to `--trajectory`, named presets, interpolation, plots."""

from .format import (
    CONVENTIONS,
    load_re10k_txt,
    load_trajectory,
    save_re10k_txt,
    save_trajectory,
    save_transforms_json,
    trajectory_to_json,
)
from .interpolate import interpolate_keyframes, resample
from .presets import PRESETS, make_preset

__all__ = [
    "CONVENTIONS", "PRESETS", "interpolate_keyframes", "load_re10k_txt", "load_trajectory", "make_preset",
    "resample", "save_re10k_txt", "save_trajectory", "save_transforms_json", "trajectory_to_json",
]
