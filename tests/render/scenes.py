"""Small scenes and cameras shared by the render tests."""

import torch

from wonderland.gaussians import Gaussians
from wonderland.geometry import Cameras, K_from_fov, look_at, make_K


def head_on_camera(size: int = 33, focal: float = 40.0, dtype=torch.float64) -> Cameras:
    """Identity pose; the optical axis hits the centre of pixel (size // 2, size // 2)."""
    c = size // 2 + 0.5
    return Cameras(torch.eye(4, dtype=dtype)[None], make_K(focal, focal, c, c)[None].to(dtype), size, size)


def one_gaussian(pos, scale: float = 0.05, opacity: float = 0.8, color=(1.0, 0.5, 0.25), dtype=torch.float64):
    return Gaussians(torch.tensor([pos], dtype=dtype), torch.tensor([[1.0, 0, 0, 0]], dtype=dtype),
                     torch.full((1, 3), scale, dtype=dtype), torch.tensor([opacity], dtype=dtype),
                     torch.tensor([color], dtype=dtype))


def random_scene(g: int, seed: int = 0, dtype=torch.float64, spread: float = 1.0, scale=(0.02, 0.15)) -> Gaussians:
    gen = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.rand(*s, generator=gen, dtype=dtype)  # noqa: E731
    n = lambda *s: torch.randn(*s, generator=gen, dtype=dtype)  # noqa: E731
    return Gaussians(n(g, 3) * spread, n(g, 4), scale[0] + (scale[1] - scale[0]) * r(g, 3), 0.1 + 0.85 * r(g),
                     r(g, 3))


def ring_cameras(n: int, height: int, width: int, radius: float = 4.0, offset: float = 0.0, dtype=torch.float64
                 ) -> Cameras:
    """n cameras on a horizontal circle looking at the origin."""
    angles = torch.arange(n, dtype=dtype) * (2 * torch.pi / n) + offset
    eye = torch.stack([radius * torch.sin(angles), -0.5 * torch.ones_like(angles), -radius * torch.cos(angles)], -1)
    c2w = look_at(eye, torch.zeros_like(eye))
    return Cameras(c2w, K_from_fov(45, height, width).to(dtype).expand(n, 3, 3), height, width)
