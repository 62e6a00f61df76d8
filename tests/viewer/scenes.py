"""Small scenes for the viewer tests: few Gaussians, so a software-rendered browser draws them in seconds."""

import math

import numpy as np
import torch

from wonderland.gaussians import Gaussians
from wonderland.geometry import Cameras
from wonderland.geometry.rotations import axis_angle_to_matrix
from wonderland.trajectories import make_preset


def rolled_orbit(num: int = 7) -> Cameras:
    """An orbit whose world is rolled 180 degrees about the optical axis of camera 0 (world y points up,
    as in many datasets), so that 'up' in the viewer must come from the cameras, not from the axes."""
    cams = make_preset("orbit", num, 32, 48, degrees=40, depth=3.0)
    roll = torch.eye(4, dtype=cams.c2w.dtype)
    roll[:3, :3] = axis_angle_to_matrix(torch.tensor([0.0, 0.0, 1.0], dtype=cams.c2w.dtype),
                                        torch.tensor(math.pi, dtype=cams.c2w.dtype))
    roll[:3, 3] = torch.tensor([0.5, -0.2, 1.0], dtype=cams.c2w.dtype)
    return Cameras(roll @ cams.c2w, cams.K, cams.height, cams.width)


def red_over_blue(cams: Cameras, n: int = 600) -> Gaussians:
    """Opaque red Gaussians in the upper half of camera 0's view and blue ones in the lower half, 3 units
    ahead; positions are made in camera 0's frame and moved to the world with its pose."""
    rng = np.random.default_rng(0)
    top = np.arange(n) < n // 2
    cam = np.stack([rng.uniform(-0.8, 0.8, n), np.where(top, -0.5, 0.5) + rng.uniform(-0.25, 0.25, n),
                    np.full(n, 3.0)], 1)  # OpenCV camera axes: y down, so y < 0 is the upper half
    c2w = cams.c2w[0].numpy()
    world = cam @ c2w[:3, :3].T + c2w[:3, 3]
    colors = np.where(top[:, None], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0])
    return Gaussians(torch.tensor(world, dtype=torch.float32), torch.tensor([[1.0, 0, 0, 0]]).repeat(n, 1),
                     torch.full((n, 3), 0.06), torch.ones(n), torch.tensor(colors, dtype=torch.float32))
