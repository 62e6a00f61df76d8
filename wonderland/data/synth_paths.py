"""Smooth camera paths of the families real datasets have: forward walks (RE10K, DL3DV), pans with a
sideways drift, and orbits around an object (Tanks, DL3DV). The world is y-up; every path keeps the
camera at eye height, and its speed gives 0.5-2 world units of camera-centre motion per 49 frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from wonderland.geometry import look_at

FAMILIES = ("walk", "pan", "orbit")
UP = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)


@dataclass
class CameraPath:
    family: str
    eyes: Tensor  # (F, 3) camera centres
    targets: Tensor  # (F, 3) look-at points
    focus: Tensor | None = None  # (3,) orbit centre, where the scene should put an object

    def c2w(self) -> Tensor:  # (F, 4, 4) OpenCV c2w
        return look_at(self.eyes, self.targets, UP)


def _heading(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(pitch) * np.sin(yaw), np.sin(pitch), np.cos(pitch) * np.cos(yaw)], -1)


def make_path(rng: np.random.Generator, family: str, num_frames: int, center: np.ndarray, speed: float = 1.0
              ) -> CameraPath:
    """A path of `num_frames` around the floor point `center` (x, z); the caller checks it fits its world.
    `speed` < 1 slows it below the 0.5-2 units per 49 frames (for long videos in small rooms)."""
    t = np.linspace(0.0, 1.0, num_frames)
    length = speed * rng.uniform(0.5, 2.0) * (num_frames - 1) / 48  # camera-centre travel over the whole path
    height = rng.uniform(1.1, 1.8)
    yaw0 = rng.uniform(-math.pi, math.pi)
    pitch = rng.uniform(-0.2, 0.05) + 0.03 * np.sin(2 * math.pi * rng.uniform(0.3, 1.0) * t + rng.uniform(0, 6))
    base = np.array([center[0], height, center[1]])
    if family == "walk":  # forward along the heading, with a gentle sway and look-around
        heading = _heading(np.array(yaw0), np.array(0.0))
        side = np.array([heading[2], 0.0, -heading[0]])
        sway = rng.uniform(0.02, 0.12) * np.sin(2 * math.pi * rng.uniform(0.5, 1.5) * t + rng.uniform(0, 6))
        eyes = base + (t[:, None] - 0.5) * length * heading + sway[:, None] * side
        yaw = yaw0 + rng.uniform(0.05, 0.25) * np.sin(2 * math.pi * rng.uniform(0.3, 1.0) * t + rng.uniform(0, 6))
        return CameraPath(family, *_as_torch(eyes, eyes + _heading(yaw, pitch)))
    if family == "pan":  # turn by 30-80 degrees while drifting sideways
        sweep = rng.uniform(0.5, 1.4) * rng.choice([-1, 1])
        drift = _heading(np.array(yaw0 + math.pi / 2), np.array(0.0))
        eyes = base + (t[:, None] - 0.5) * length * drift
        return CameraPath(family, *_as_torch(eyes, eyes + _heading(yaw0 + sweep * (t - 0.5), pitch)))
    if family == "orbit":  # around a focus point, looking at it
        radius = rng.uniform(1.3, 2.5)
        arc = length / radius * rng.choice([-1, 1])
        angle = yaw0 + arc * (t - 0.5)
        focus = np.array([center[0], rng.uniform(0.3, 0.9), center[1]])
        eyes = np.stack([focus[0] + radius * np.sin(angle), np.full_like(t, height),
                         focus[2] + radius * np.cos(angle)], -1)
        eyes_t, focus_t = _as_torch(eyes, focus)
        return CameraPath(family, eyes_t, focus_t.expand_as(eyes_t), focus_t)
    raise ValueError(f"unknown path family {family!r}; expected one of {FAMILIES}")


def _as_torch(*arrays: np.ndarray) -> tuple[Tensor, ...]:
    return tuple(torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64)) for a in arrays)
