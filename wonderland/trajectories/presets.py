"""Named camera paths a user can ask for without writing poses.

Every preset is built in the first camera's frame (frame 0 = identity, OpenCV axes: x right, y down,
z forward), so it is already "relative to frame 0". Distances are in scene units; `speed` scales the
amplitude of the motion (angles and distances), `num_frames` defaults to the model's 49.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

import torch
from torch import Tensor

from ..errors import InputError
from ..geometry import Cameras, K_from_fov, is_rotation, look_at
from ..geometry.rotations import axis_angle_to_matrix

_DT = torch.float64
PRESETS: dict[str, Callable[..., Tensor]] = {}


def _preset(fn):
    PRESETS[fn.__name__] = fn
    return fn


def _pose(R: Tensor, t: Tensor) -> Tensor:
    c2w = torch.eye(4, dtype=_DT).repeat(*R.shape[:-2], 1, 1)
    c2w[..., :3, :3], c2w[..., :3, 3] = R, t
    return c2w


def _ramp(n: int) -> Tensor:
    return torch.linspace(0, 1, n, dtype=_DT)


def _rotate_about(axis: tuple[float, float, float], angles: Tensor, pivot: Tensor) -> Tensor:
    """Cameras starting at the identity, rotated rigidly about an axis through `pivot`."""
    R = axis_angle_to_matrix(torch.tensor(axis, dtype=_DT).expand(len(angles), 3), angles)
    return _pose(R, pivot - R @ pivot)


@_preset
def orbit(n: int, degrees: float = 90.0, depth: float = 2.0, speed: float = 1.0) -> Tensor:
    """Circle around the look-at point (0, 0, depth) about the vertical axis; positive = to the right."""
    # Positive degrees move the camera to the right (+x): a negative turn about +y through the pivot.
    angles = -math.radians(degrees * speed) * _ramp(n)
    return _rotate_about((0.0, 1.0, 0.0), angles, torch.tensor([0.0, 0.0, depth], dtype=_DT))


@_preset
def spiral(n: int, radius: float = 0.3, depth: float = 2.0, turns: float = 1.0, forward: float = 0.5,
           speed: float = 1.0) -> Tensor:
    """Circle of `radius` in the image plane while moving forward, always looking at (0, 0, depth)."""
    s = _ramp(n)
    phase = 2 * math.pi * turns * s
    r = radius * speed
    eye = torch.stack([r * torch.sin(phase), r * (1 - torch.cos(phase)), forward * speed * s], -1)
    target = torch.tensor([0.0, 0.0, depth], dtype=_DT).expand_as(eye)
    return look_at(eye, target)


def _translate(n: int, direction: tuple[float, float, float], distance: float, speed: float) -> Tensor:
    t = torch.tensor(direction, dtype=_DT) * distance * speed * _ramp(n)[:, None]
    return _pose(torch.eye(3, dtype=_DT).expand(n, 3, 3), t)


@_preset
def dolly_in(n: int, distance: float = 1.0, speed: float = 1.0) -> Tensor:
    """Move forward along the optical axis."""
    return _translate(n, (0.0, 0.0, 1.0), distance, speed)


@_preset
def dolly_out(n: int, distance: float = 1.0, speed: float = 1.0) -> Tensor:
    """Move backward along the optical axis."""
    return _translate(n, (0.0, 0.0, -1.0), distance, speed)


def _turn(n: int, axis: tuple[float, float, float], degrees: float, speed: float) -> Tensor:
    angles = math.radians(degrees * speed) * _ramp(n)
    return _rotate_about(axis, angles, torch.zeros(3, dtype=_DT))


@_preset
def pan_left(n: int, degrees: float = 45.0, speed: float = 1.0) -> Tensor:
    return _turn(n, (0.0, -1.0, 0.0), degrees, speed)


@_preset
def pan_right(n: int, degrees: float = 45.0, speed: float = 1.0) -> Tensor:
    return _turn(n, (0.0, 1.0, 0.0), degrees, speed)


@_preset
def tilt_up(n: int, degrees: float = 30.0, speed: float = 1.0) -> Tensor:
    return _turn(n, (1.0, 0.0, 0.0), degrees, speed)


@_preset
def tilt_down(n: int, degrees: float = 30.0, speed: float = 1.0) -> Tensor:
    return _turn(n, (-1.0, 0.0, 0.0), degrees, speed)


@_preset
def zoom_out(n: int, factor: float = 2.0, speed: float = 1.0) -> tuple[Tensor, Tensor]:
    """Optical zoom: the camera stays put, the focal length shrinks to 1/factor (widening the view)."""
    focal_scale = torch.exp(-math.log(factor) * speed * _ramp(n))
    return static(n), focal_scale


@_preset
def static(n: int) -> Tensor:
    return torch.eye(4, dtype=_DT).repeat(n, 1, 1)


def preset_parameters(name: str) -> tuple[str, ...]:
    """The parameters a preset takes besides the frame count, e.g. ('degrees', 'depth', 'speed') for orbit."""
    return tuple(inspect.signature(PRESETS[name]).parameters)[1:]


# Parameters whose range is narrower than "any finite number" (a zoom factor is a ratio of focal lengths).
_POSITIVE = ("factor",)


def check_preset(name: str, params: dict, option: Callable[[str], str] = str) -> None:
    """The preset exists, takes each of `params`, and each value is finite (positive where it must be).
    `option(param)` names a parameter in messages (`--degrees` on a command line)."""
    from ..checks import check_choice, check_float

    check_choice(name, option("preset"), sorted(PRESETS))
    takes = preset_parameters(name)
    for key, value in params.items():
        if key not in takes:
            listed = ", ".join(option(k) for k in takes) or "no parameters"
            raise InputError(None, option(key), f"preset {name} takes {listed}", value=value)
        check_float(value, option(key), min=0 if key in _POSITIVE else None, min_open=key in _POSITIVE)


def make_preset(name: str, num_frames: int = 49, height: int = 480, width: int = 720, fov_y_degrees: float = 50.0,
                **params) -> Cameras:
    """Cameras (num_frames,) of a named preset; `params` are the preset's own (degrees, depth, speed...)."""
    from ..checks import check_float, check_int

    check_preset(name, params)
    check_int(num_frames, "num_frames", min=2)
    check_int(height, "height", min=1)
    check_int(width, "width", min=1)
    check_float(fov_y_degrees, "fov_y_degrees", min=0, max=180, min_open=True, max_open=True)
    out = PRESETS[name](num_frames, **params)
    c2w, focal_scale = out if isinstance(out, tuple) else (out, torch.ones(num_frames, dtype=_DT))
    finite = bool(torch.isfinite(c2w).all() and torch.isfinite(focal_scale).all() and (focal_scale > 0).all())
    if not finite or not is_rotation(c2w[:, :3, :3]).all():  # e.g. a spiral through (or under) its target
        shown = ", ".join(f"{k}={v:g}" for k, v in params.items()) or "defaults"
        raise InputError(None, "preset", f"these parameters give a degenerate camera ({shown})", value=name)
    K = K_from_fov(fov_y_degrees, height, width).repeat(num_frames, 1, 1)
    K[:, 0, 0] *= focal_scale
    K[:, 1, 1] *= focal_scale
    return Cameras(c2w, K, height, width)
