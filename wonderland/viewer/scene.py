"""The viser scene of a generated result: the splats, one frustum per camera with its generated frame,
and the camera path as a curve.

viser follows the project's camera convention (OpenCV axes, camera-to-world, vertical field of view),
so a camera's frustum is placed with its c2w rotation as a (w, x, y, z) quaternion and its centre;
nothing is flipped. The scene's up is camera 0's up (its -y axis in world coordinates: OpenCV's y points
down), so the first view is the input image the right way up whatever the world's axes are.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..gaussians import Gaussians
from ..geometry import Cameras, matrix_to_quat
from ..trajectories import load_trajectory
from .splats import splat_arrays

log = logging.getLogger(__name__)
MAX_FRAME_WIDTH = 320  # frames on frusta are thumbnails: keeps a 49-frame 720p scene file small


@dataclass
class FrustumParams:
    wxyz: np.ndarray  # (F, 4) c2w rotations, (w, x, y, z)
    positions: np.ndarray  # (F, 3) camera centres
    fov: np.ndarray  # (F,) vertical field of view in radians
    aspect: float  # width / height


@dataclass
class SceneHandles:
    splats: object  # viser GaussianSplatHandle
    frusta: list  # viser CameraFrustumHandle, one per camera
    path: object | None  # viser SplineCatmullRomHandle (None without cameras or with one camera)


def frustum_params(cams: Cameras) -> FrustumParams:
    """Cameras (F,) -> what `add_camera_frustum` takes, per camera."""
    c2w = cams.c2w.double()
    return FrustumParams(wxyz=matrix_to_quat(c2w[:, :3, :3]).numpy(), positions=c2w[:, :3, 3].numpy(),
                         fov=(2 * torch.atan(cams.height / (2 * cams.K[:, 1, 1].double()))).numpy(),
                         aspect=cams.width / cams.height)


def load_cameras(path: str | Path) -> tuple[Cameras, np.ndarray | None]:
    """cameras.json -> (Cameras (F,), frames (F, h, w, 3) uint8 or None).

    The frames are `video.mp4` beside the cameras file (what `wonderland-generate` writes), shrunk to
    thumbnails; a missing or unreadable video, or one with a different frame count, leaves the frusta
    empty (logged), since the cameras alone are still worth showing.
    """
    path = Path(path)
    cams = load_trajectory(path)
    video = path.parent / "video.mp4"
    if not video.is_file():
        return cams, None
    from ..video import read_video, to_uint8

    try:
        frames = read_video(video)  # (F, 3, H, W)
    except Exception as e:  # noqa: BLE001 - any decoder failure means "no thumbnails", not a crash
        log.warning("%s: not shown on the frusta (%s)", video, e)
        return cams, None
    if len(frames) != len(cams):
        log.warning("%s: %d frames for %d cameras in %s; frusta shown without frames", video, len(frames),
                    len(cams), path)
        return cams, None
    if frames.shape[-1] > MAX_FRAME_WIDTH:
        size = (round(frames.shape[-2] * MAX_FRAME_WIDTH / frames.shape[-1]), MAX_FRAME_WIDTH)
        frames = torch.nn.functional.interpolate(frames, size=size, mode="area")
    return cams, to_uint8(frames)


def scene_radius(means: np.ndarray) -> float:
    """A robust size of the scene: the 90th percentile distance from the median point."""
    if not len(means):
        return 1.0
    return max(float(np.percentile(np.linalg.norm(means - np.median(means, 0), axis=1), 90)), 1e-3)


def frustum_size(centres: np.ndarray, radius: float) -> float:
    """Frusta a twelfth of the path's length (a path of 49 cameras reads as a line of small cameras, not a
    block), within [1.5%, 6%] of the scene's radius so they stay visible and never hide the scene."""
    length = float(np.linalg.norm(np.diff(centres, axis=0), axis=1).sum()) if len(centres) > 1 else 0.0
    return float(np.clip(length / 12, 0.015 * radius, 0.06 * radius))


def build_scene(server, g: Gaussians, cams: Cameras | None = None, frames: np.ndarray | None = None
                ) -> SceneHandles:
    """Add everything to a `viser.ViserServer` and point its initial view along camera 0."""
    arrays = splat_arrays(g)
    radius = scene_radius(arrays.centers)
    c2w0 = cams.c2w[0].double().numpy() if cams is not None else np.eye(4)
    server.scene.set_up_direction(-c2w0[:3, 1])
    splats = server.scene.add_gaussian_splats("/scene", centers=arrays.centers, covariances=arrays.covariances,
                                              rgbs=arrays.rgbs, opacities=arrays.opacities)
    frusta, path = [], None
    if cams is not None:
        p = frustum_params(cams)
        size = frustum_size(p.positions, radius)
        for i in range(len(cams)):
            frusta.append(server.scene.add_camera_frustum(
                f"/cameras/{i:03d}", fov=float(p.fov[i]), aspect=p.aspect, scale=size,
                thickness=3.0 if i == 0 else 1.5, thickness_units="screen",
                color=(255, 80, 40) if i == 0 else (40, 40, 40),
                image=None if frames is None else frames[i], wxyz=p.wxyz[i], position=p.positions[i]))
        if len(cams) > 1:
            path = server.scene.add_spline_catmull_rom("/path", points=p.positions, thickness=3.0,
                                                       thickness_units="screen", color=(255, 80, 40))
    _initial_view(server, arrays.centers, c2w0, radius)
    return SceneHandles(splats, frusta, path)


def _initial_view(server, centers: np.ndarray, c2w: np.ndarray, radius: float) -> None:
    """Start behind and a little above camera 0, looking where it looks, its way up: the input image's
    view with the first frustum, the path and the scene in sight."""
    eye, forward, up = c2w[:3, 3], c2w[:3, 2], -c2w[:3, 1]
    depth = (centers - eye) @ forward
    ahead = depth[depth > 0]
    look = float(np.median(ahead)) if len(ahead) else radius
    server.initial_camera.position = eye - 0.6 * radius * forward + 0.2 * radius * up
    server.initial_camera.look_at = eye + look * forward
    server.initial_camera.up = up
    server.initial_camera.fov = math.radians(60)
