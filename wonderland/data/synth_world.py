"""Procedural worlds for the synthetic scenes: rooms (closed, lit from the ceiling) and open scenes (a
ground plane under a sky), furnished with textured boxes and spheres of varied sizes, colours and
textures. World units are metres-like: rooms 5-9 wide, objects 0.3-2 across, the camera at eye height.
"""

from __future__ import annotations

import colorsys
import math

import numpy as np
import torch
from torch import Tensor

from .raycast import TEXTURES, Box, Plane, Sphere, Texture, World


def random_color(rng: np.random.Generator, dark: bool = False) -> tuple[float, float, float]:
    h, s = rng.random(), rng.uniform(0.2, 0.9)
    v = rng.uniform(0.15, 0.5) if dark else rng.uniform(0.45, 1.0)
    return colorsys.hsv_to_rgb(h, s, v)


def random_texture(rng: np.random.Generator, scale: float = 1.0) -> Texture:
    """Two colours (one darker, for contrast) mixed by a random pattern; `scale` shrinks the pattern."""
    kind = TEXTURES[rng.choice(len(TEXTURES), p=[0.1, 0.25, 0.25, 0.25, 0.15])]
    a, b = random_color(rng), random_color(rng, dark=True)
    if rng.random() < 0.5:
        a, b = b, a
    waves = tuple((rng.normal(0, 3.0 * scale), rng.normal(0, 3.0 * scale), rng.uniform(0, 2 * math.pi))
                  for _ in range(4))
    return Texture(kind, a, b, freq=rng.uniform(0.6, 2.5) * scale, angle=rng.uniform(0, math.pi), waves=waves)


def _t(*x) -> Tensor:
    return torch.tensor(x, dtype=torch.float32)


def room_planes(rng: np.random.Generator, size: tuple[float, float, float]) -> list[Plane]:
    """Floor, ceiling and four walls of the box [-w/2, w/2] x [0, h] x [-d/2, d/2], each its own texture."""
    w, h, d = size
    x, y, z = _t(1, 0, 0), _t(0, 1, 0), _t(0, 0, 1)
    return [Plane(_t(0, 0, 0), y, x, random_texture(rng)), Plane(_t(0, h, 0), y, x, random_texture(rng, 0.7)),
            Plane(_t(-w / 2, 0, 0), x, z, random_texture(rng)), Plane(_t(w / 2, 0, 0), x, z, random_texture(rng)),
            Plane(_t(0, 0, -d / 2), z, x, random_texture(rng)), Plane(_t(0, 0, d / 2), z, x, random_texture(rng))]


def random_object(rng: np.random.Generator, x: float, z: float, ceiling: float = math.inf) -> Box | Sphere:
    """A box standing on the floor or a sphere resting on it / floating, centred over (x, z)."""
    if rng.random() < 0.6:
        half = np.array([rng.uniform(0.15, 0.9), rng.uniform(0.15, 1.0), rng.uniform(0.15, 0.9)])
        half[1] = min(half[1], ceiling / 2 - 0.05)
        return Box(_t(x, half[1], z), _t(*half), float(rng.uniform(0, math.pi)), random_texture(rng, 2.0))
    r = rng.uniform(0.15, 0.7)
    lift = 0.0 if rng.random() < 0.6 else rng.uniform(0.2, 1.2)
    cy = min(r + lift, ceiling - r - 0.05)
    return Sphere(_t(x, cy, z), float(r), random_texture(rng, 3.0))


def furnish(rng: np.random.Generator, world: World, cameras: Tensor, count: int, lo: np.ndarray, hi: np.ndarray,
            ceiling: float = math.inf, clearance: float = 0.45, tries: int = 200) -> None:
    """Add up to `count` objects with (x, z) uniform in [lo, hi] that keep `clearance` from every camera
    centre (N, 3) and do not overlap earlier objects (bounding spheres)."""
    placed: list[tuple[np.ndarray, float]] = []
    for _ in range(tries):
        if len(placed) == count:
            break
        x, z = rng.uniform(lo, hi)
        obj = random_object(rng, float(x), float(z), ceiling)
        radius = float(obj.half.norm()) if isinstance(obj, Box) else obj.radius
        centre = obj.center.numpy()
        if obj.distance(cameras).min() < clearance:
            continue
        if any(np.linalg.norm(centre - c) < radius + r for c, r in placed):
            continue
        placed.append((centre, radius))
        world.primitives.append(obj)


def make_room(rng: np.random.Generator, size: tuple[float, float, float]) -> World:
    w, h, d = size
    light = _t(rng.uniform(-w / 4, w / 4), h - 0.3, rng.uniform(-d / 4, d / 4))
    return World(room_planes(rng, size), light, light_range=float(max(w, d)) * rng.uniform(0.5, 1.0),
                 ambient=float(rng.uniform(0.25, 0.45)), sky_horizon=(0, 0, 0), sky_zenith=(0, 0, 0))


def make_open(rng: np.random.Generator) -> World:
    ground = Plane(_t(0, 0, 0), _t(0, 1, 0), _t(1, 0, 0), random_texture(rng, 0.8))
    sun = _t(*(rng.normal(0, 1, 3) * [30, 0, 30] + [0, 60, 0]))
    horizon = colorsys.hsv_to_rgb(rng.uniform(0.5, 0.7), rng.uniform(0.05, 0.3), rng.uniform(0.8, 1.0))
    zenith = colorsys.hsv_to_rgb(rng.uniform(0.55, 0.66), rng.uniform(0.4, 0.8), rng.uniform(0.5, 0.9))
    return World([ground], sun, light_range=1e4, ambient=float(rng.uniform(0.3, 0.5)), sky_horizon=horizon,
                 sky_zenith=zenith)
