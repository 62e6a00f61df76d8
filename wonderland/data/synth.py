"""Synthetic scenes with ground-truth frames and cameras, in memory or written in the RE10K / DL3DV layouts.

Every scene comes from one integer seed: a room (60%) or an open scene, a camera path (walk, pan or
orbit), then objects placed where they keep clear of every camera, rendered by the exact ray-caster
(`raycast.py`). The world and path do not depend on the image size, so one seed at two resolutions is
the same scene. Frames are quantised to 8 bits in memory too, so what is written reads back identically.
`supersample=s` renders s x s rays per pixel and averages them (box filter): anti-aliased frames, as a camera
integrating over each pixel's area sees them, instead of one ray through each pixel centre.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from wonderland.geometry import Cameras, K_from_fov
from wonderland.io import write_json

from .raycast import Box, World, render
from .synth_paths import FAMILIES, CameraPath, make_path
from .synth_world import furnish, make_open, make_room, random_texture

FORMATS = ("re10k", "dl3dv")
MAX_RAYS = 400_000  # rays rendered at once: bounds memory at any resolution


def _room_scene(rng: np.random.Generator, family: str, num_frames: int) -> tuple[World, CameraPath]:
    size = (rng.uniform(5, 9), rng.uniform(2.6, 3.5), rng.uniform(5, 9))
    half = np.array([size[0] / 2, size[2] / 2])
    for attempt in range(60):  # a path that stays 0.5 inside the walls; long videos may need to slow down
        path = make_path(rng, family, num_frames, rng.uniform(-half + 1, half - 1), speed=0.85 ** (attempt // 10))
        eyes = path.eyes[:, [0, 2]].numpy()
        if (np.abs(eyes) < half - 0.5).all():
            break
    else:
        raise RuntimeError(f"no {family} path of {num_frames} frames fits the room {size}")
    world = make_room(rng, size)
    _add_focus_object(rng, world, path)
    furnish(rng, world, path.eyes.float(), int(rng.integers(5, 12)), -half + 0.3, half - 0.3, ceiling=size[1])
    return world, path


def _open_scene(rng: np.random.Generator, family: str, num_frames: int) -> tuple[World, CameraPath]:
    path = make_path(rng, family, num_frames, np.zeros(2))
    world = make_open(rng)
    _add_focus_object(rng, world, path)
    furnish(rng, world, path.eyes.float(), int(rng.integers(8, 16)), np.full(2, -6.0), np.full(2, 6.0))
    for _ in range(int(rng.integers(3, 8))):  # a distant skyline, so the background has parallax too
        angle, dist = rng.uniform(0, 2 * math.pi), rng.uniform(9, 16)
        half = torch.tensor([rng.uniform(0.8, 2.5), rng.uniform(1.5, 5.0), rng.uniform(0.8, 2.5)], dtype=torch.float32)
        center = torch.tensor([dist * math.sin(angle), float(half[1]), dist * math.cos(angle)], dtype=torch.float32)
        world.primitives.append(Box(center, half, float(rng.uniform(0, math.pi)), random_texture(rng, 0.8)))
    return world, path


def _add_focus_object(rng: np.random.Generator, world: World, path: CameraPath) -> None:
    """Orbits circle an object standing under their focus point."""
    if path.focus is not None:
        fx, fz = float(path.focus[0]), float(path.focus[2])
        furnish(rng, world, path.eyes.float(), 1, np.array([fx, fz]), np.array([fx, fz]), clearance=0.6)


def synthetic_world(seed: int, num_frames: int) -> tuple[World, CameraPath, float]:
    """(world, camera path, vertical field of view in degrees) of scene `seed`."""
    rng = np.random.default_rng(seed)
    indoor = rng.random() < 0.6
    family = FAMILIES[int(rng.integers(len(FAMILIES)))]
    fov_y = float(rng.uniform(45, 70))
    world, path = (_room_scene if indoor else _open_scene)(rng, family, num_frames)
    return world, path, fov_y


def make_synthetic_scene(seed: int, num_frames: int = 49, height: int = 64, width: int = 96, supersample: int = 1
                         ) -> tuple[Tensor, Cameras]:
    """Frames (F, 3, H, W) float32 in [0, 1] (multiples of 1/255) and their exact Cameras (F,) (float64)."""
    return _render_scene(seed, num_frames, height, width, as_uint8=False, supersample=supersample)


def _check_supersample(supersample: int) -> None:
    if not isinstance(supersample, int) or supersample < 1:
        raise ValueError(f"supersample must be an integer >= 1 (rays per pixel side), got {supersample!r}")


def _render_scene(seed: int, num_frames: int, height: int, width: int, as_uint8: bool, supersample: int = 1
                  ) -> tuple[Tensor, Cameras]:
    _check_supersample(supersample)
    world, path, fov_y = synthetic_world(seed, num_frames)
    s = supersample
    # Pixel (i, j) of the output covers sub-pixels [s*i, s*i + s) of the s-times larger image, whose
    # intrinsics are K scaled by s (pixel centres at i + 0.5 in both): box-filtering them is exact.
    fine = Cameras(path.c2w(), K_from_fov(fov_y, s * height, s * width), s * height, s * width)
    step = max(1, MAX_RAYS // (s * height * s * width))
    frames = torch.cat([render(world, fine[i:i + step]) for i in range(0, num_frames, step)])
    if s > 1:
        frames = torch.nn.functional.avg_pool2d(frames, s)
    frames = (frames * 255).round().to(torch.uint8)  # (F, 3, H, W)
    cams = Cameras(path.c2w(), K_from_fov(fov_y, height, width), height, width)
    return (frames if as_uint8 else frames.float() / 255), cams


def scene_seed(seed: int, index: int) -> int:
    """Independent per-scene seeds of a dataset (SeedSequence spawning, not seed + index)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def _write_one(job: tuple) -> str:
    out, index, seed, num_frames, height, width, fmt, supersample = job
    from .dl3dv import write_dl3dv_scene
    from .re10k import write_re10k_scene

    key, s = f"synth_{index:05d}", scene_seed(seed, index)
    frames, cams = _render_scene(s, num_frames, height, width, as_uint8=True, supersample=supersample)
    if fmt == "re10k":
        stamps = [round(i * 1e6 / 30) for i in range(num_frames)]  # microseconds at 30 fps
        write_re10k_scene(out, key, cams, frames, stamps, url=f"wonderland-synth://seed/{s}")
    else:
        write_dl3dv_scene(out, key, cams, frames, downscale=4)
    return key


def write_synthetic_dataset(out: str | os.PathLike, num_scenes: int, num_frames: int = 64, height: int = 64,
                            width: int = 96, seed: int = 0, format: str = "re10k", workers: int | None = None,
                            supersample: int = 1) -> list[str]:
    """Write `num_scenes` scenes to `out` in the RE10K layout (a) or the DL3DV layout; returns the keys.
    Scene i is `make_synthetic_scene(scene_seed(seed, i), ...)`. `workers` processes (default: all cores)."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {FORMATS}")
    _check_supersample(supersample)  # before any folder or worker exists
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(out, i, seed, num_frames, height, width, format, supersample) for i in range(num_scenes)]
    workers = min(workers or os.cpu_count() or 1, num_scenes)
    if workers <= 1:
        keys = [_write_one(j) for j in jobs]
    else:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            keys = pool.map(_write_one, jobs, chunksize=1)
    write_json(out / "wonderland-synth.json", {"generator": "wonderland-synth", "format": format, "seed": seed,
                                               "num_scenes": num_scenes, "num_frames": num_frames,
                                               "height": height, "width": width, "supersample": supersample,
                                               "keys": keys})
    return keys
