"""`render`: the one function that turns Gaussians and cameras into images, used everywhere.

Outputs per view: rgb (3, h, w) composited over `background`, alpha (1, h, w) = 1 - final
transmittance, and depth (1, h, w) = Σ_i w_i z_i, the alpha-weighted camera-space z of the
Gaussians' centres. Depth is *not* divided by alpha (divide by alpha.clamp_min(eps) for the mean
depth of the visible surface). Everything is differentiable w.r.t. every Gaussian parameter (and a
background tensor).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from jaxtyping import Float
from torch import Tensor

from wonderland.gaussians import Gaussians
from wonderland.geometry import Cameras

from .gsplat_backend import gsplat_available, render_gsplat
from .reference import render_reference

BACKENDS: dict[str, Callable] = {"reference": render_reference, "gsplat": render_gsplat}


@dataclass
class RenderOutput:
    rgb: Float[Tensor, "*b v 3 h w"]
    alpha: Float[Tensor, "*b v 1 h w"]
    depth: Float[Tensor, "*b v 1 h w"]  # accumulated (alpha-weighted) camera z, not normalised by alpha


class _DeferredRender(torch.autograd.Function):
    """Renders views without graphs; backward re-renders one view at a time with grad.

    Activation memory is that of one view; the price is a second forward per view in backward.
    """

    @staticmethod
    def forward(ctx, backend, w2c, K, height, width, background, *params):
        ctx.backend, ctx.size = backend, (height, width)
        ctx.save_for_backward(w2c, K, background, *params)
        with torch.no_grad():
            views = [backend(*params, w2c[v:v + 1], K[v:v + 1], height, width, background)
                     for v in range(w2c.shape[0])]
        return tuple(torch.cat(x) for x in zip(*views))

    @staticmethod
    def backward(ctx, *grad_outputs):
        w2c, K, background, *params = ctx.saved_tensors
        inputs = [background, *params]
        needs = ctx.needs_input_grad[5:]
        grads = [torch.zeros_like(x) if need else None for x, need in zip(inputs, needs)]
        for v in range(w2c.shape[0]):
            with torch.enable_grad():
                leaves = [x.detach().requires_grad_(need) for x, need in zip(inputs, needs)]
                outs = ctx.backend(*leaves[1:], w2c[v:v + 1], K[v:v + 1], *ctx.size, leaves[0])
                wanted = [x for x, need in zip(leaves, needs) if need]
                view_grads = iter(torch.autograd.grad(outs, wanted, [g[v:v + 1] for g in grad_outputs],
                                                      allow_unused=True))
            for i, need in enumerate(needs):
                if need:
                    gv = next(view_grads)
                    if gv is not None:
                        grads[i] += gv
        return (None, None, None, None, None, *grads)


def render(gaussians: Gaussians, cameras: Cameras, background: Tensor | float = 0.0, backend: str = "auto",
           deferred: bool = False) -> RenderOutput:
    """Render unbatched Gaussians (g,) from cameras (v,) -> RenderOutput of (v, c, h, w) tensors.

    backend: "reference" (pure PyTorch, any device, float32 or float64), "gsplat" (CUDA, float32), or "auto"
    (gsplat for float32 CUDA tensors when it is installed, else the reference). Rendering is full precision
    whatever autocast surrounds it (`wonderland.precision`): float16 / bfloat16 Gaussians are rendered in
    float32 (gradients flow back to them through the cast). deferred: render views without
    keeping graphs and recompute each view in backward (activation memory of one view); same values and
    gradients.
    Reference memory per view: O(g + tile intersections) plus at most 2^20 (pixel, Gaussian) pairs in
    flight (~64 MiB in float32); see `wonderland.render.rasterize`.
    """
    if gaussians.batch_shape:
        raise ValueError(f"render: expected unbatched Gaussians (g,), got batch shape {tuple(gaussians.batch_shape)}"
                         "; use render_batch")
    if len(cameras.shape) != 1:
        raise ValueError(f"render: expected cameras of shape (v,), got {tuple(cameras.shape)}")
    if gaussians.means.dtype in (torch.float16, torch.bfloat16):
        gaussians = gaussians.to(torch.float32)
    if backend == "auto":
        use_gsplat = gaussians.means.is_cuda and gaussians.means.dtype == torch.float32 and gsplat_available()
        backend = "gsplat" if use_gsplat else "reference"
    if backend not in BACKENDS:
        raise ValueError(f"render: unknown backend {backend!r}; expected one of {sorted(BACKENDS)} or 'auto'")
    means = gaussians.means
    w2c = cameras.w2c.to(means)
    K = cameras.K.to(means)
    bg = torch.as_tensor(background, dtype=means.dtype, device=means.device).expand(3)
    params = (means, gaussians.quats, gaussians.scales, gaussians.opacities, gaussians.colors)
    fn = BACKENDS[backend]
    if deferred:
        rgb, alpha, depth = _DeferredRender.apply(fn, w2c, K, cameras.height, cameras.width, bg, *params)
    else:
        rgb, alpha, depth = fn(*params, w2c, K, cameras.height, cameras.width, bg)
    return RenderOutput(rgb, alpha, depth)


def render_batch(gaussians: Gaussians, cameras: Cameras, background: Tensor | float = 0.0, backend: str = "auto",
                 deferred: bool = False) -> RenderOutput:
    """Gaussians with batch (b, g) and cameras (b, v) -> RenderOutput of (b, v, c, h, w) tensors."""
    if len(gaussians.batch_shape) != 1 or cameras.shape[:1] != gaussians.batch_shape:
        raise ValueError(f"render_batch: expected Gaussians (b, g) and cameras (b, v), got "
                         f"{tuple(gaussians.batch_shape)} and {tuple(cameras.shape)}")
    outs = [render(gaussians[b], cameras[b], background, backend, deferred) for b in range(len(gaussians))]
    return RenderOutput(*(torch.stack([getattr(o, k) for o in outs]) for k in ("rgb", "alpha", "depth")))
