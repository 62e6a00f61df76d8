"""Inference: (latents, cameras in any world frame) -> Gaussians in that frame; evaluation at held-out views."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
from torch import Tensor

from wonderland.gaussians import Gaussians
from wonderland.geometry import Cameras, PoseNormalization, matrix_to_quat, normalize_cameras, quat_to_matrix
from wonderland.metrics import psnr, ssim
from wonderland.precision import full_precision
from wonderland.render import render

from .model import LaLRM


@torch.no_grad()
def reconstruct(model: LaLRM, latents: Tensor, cameras: Cameras) -> Gaussians:
    """latents (B, 16, T, h, w) + cameras (B, F) at (8h, 8w), in the user's world frame -> Gaussians (B, G).

    The model sees poses relative to frame 0 and scale-normalised (what it was trained on); its Gaussians
    are then mapped back with the same normaliser, so they live in the frame (and units) of `cameras`.
    """
    normed, norm = normalize_cameras(cameras.to(torch.float32))
    param = next(model.parameters())
    # bf16 autocast on CUDA; elsewhere whatever autocast the caller set (`enabled=False` here would switch
    # a caller's CPU autocast off and leave its bf16 latents facing fp32 weights).
    cuda = param.device.type == "cuda"
    with torch.autocast("cuda", torch.bfloat16) if cuda else contextlib.nullcontext():
        gaussians = model(latents.to(param.device, param.dtype), normed.to(param.device)).gaussians
    return to_world(gaussians, norm)


@full_precision
def to_world(g: Gaussians, norm: PoseNormalization) -> Gaussians:
    """Gaussians (B, G) in a normalised frame -> the frame `norm` was taken from (rigid + uniform scale)."""
    ref, scale = norm.reference.to(g.means), norm.scale.to(g.means)  # (B, 4, 4), (B,)
    R = ref[:, None, :3, :3]  # (B, 1, 3, 3)
    quats = matrix_to_quat(R @ quat_to_matrix(g.quats))
    return Gaussians(norm.points_to_world(g.means), quats, g.scales * scale[:, None, None], g.opacities, g.colors)


@torch.no_grad()
def evaluate_views(gaussians: Gaussians, cameras: Cameras, frames: Tensor, background: float = 1.0,
                   lpips: Callable[[Tensor, Tensor], Tensor] | None = None) -> dict[str, float]:
    """Render unbatched Gaussians (G,) at cameras (V,), compare with frames (V, 3, H, W) in [0, 1].

    -> mean psnr, ssim (views of at least 11x11 pixels), and lpips when a metric module is given
    (e.g. `wonderland.metrics.load_lpips(...)` from local weights)."""
    rgb = render(gaussians, cameras.to(gaussians.means), background).rgb.clamp(0, 1)  # (V, 3, H, W)
    frames = frames.to(rgb)
    out = {"psnr": psnr(rgb, frames).mean().item()}
    if min(frames.shape[-2:]) >= 11:
        out["ssim"] = ssim(rgb, frames).mean().item()
    if lpips is not None:
        out["lpips"] = lpips(rgb, frames).mean().item()
    return out
