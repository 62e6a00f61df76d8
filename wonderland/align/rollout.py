"""DRTune-style rollout (SPEC.md section 7): sample a video with the camera model, keeping gradient only where
VIST3A keeps it.

- the number of steps n is drawn per rollout; `grad_steps` K distinct random steps among the first n - 1, plus
  the last one, run the transformer with gradient; the others run under `no_grad`;
- the transformer's input z_t is detached at every step, but the scheduler update z_{t-1} = f(z_t, v(sg(z_t)))
  uses the attached z_t: the gradient of a late step reaches an earlier step's prediction only through the
  (linear, cheap) scheduler updates, never through the transformer's input Jacobian;
- the final latents are decoded by the VAE with gradient (`decode_with_grad`).

The loop is `camera_video.pipeline.CameraVideoPipeline.__call__`'s (CFG on text, camera in both halves,
CogVideoXDPMScheduler's two-sample update), without its caches, which a training step must not use.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class Rollout:
    latents: Tensor  # (B, 16, T, h, w) scaled, attached to the graph of the gradient steps
    num_steps: int
    grad_steps: list[int]  # indices (0-based) of the steps that carried gradient
    model_inputs: list[Tensor] | None = None  # (B', T, 32, h, w) per step, kept when asked (tests)


def draw_schedule(min_steps: int, max_steps: int, k: int, last: bool, generator: torch.Generator
                  ) -> tuple[int, list[int]]:
    """n ~ U{min..max}; K distinct random steps among 0..n-2, plus n-1 when `last` -> (n, sorted steps)."""
    n = int(torch.randint(min_steps, max_steps + 1, (1,), generator=generator))
    pool = n - 1 if last else n
    chosen = torch.randperm(pool, generator=generator)[:min(k, pool)].tolist()
    return n, sorted(chosen + ([n - 1] if last else []))


def rollout(model, scheduler, image_latents: Tensor, text: Tensor, plucker: Tensor, num_steps: int,
            grad_steps: list[int], guidance_scale: float, generator: torch.Generator, detach_inputs: bool = True,
            keep_inputs: bool = False) -> Rollout:
    """image_latents (B, 16, 1, h, w) scaled; text (B, L, D) or, under guidance (scale > 1), (2B, L, D) as
    [negative; positive]; plucker (B, F, 6, H, W) of the normalised cameras -> `Rollout`.

    `model` is the (possibly wrapped) `CameraVideoTransformer`; `scheduler` is not modified (a copy is set)."""
    from diffusers import CogVideoXDPMScheduler

    from camera_video.models.rotary import rotary_embedding
    from wonderland.latents import LATENT_CHANNELS

    core = getattr(model, "module", model)
    dtype, device = core.dtype, image_latents.device
    b, _, _, h, w = image_latents.shape
    t = (plucker.shape[1] - 1) // 4 + 1
    sched = copy.deepcopy(scheduler)
    sched.set_timesteps(num_steps, device=device)
    timesteps = sched.timesteps
    cfg = guidance_scale > 1.0
    double = (lambda x: torch.cat([x, x])) if cfg else (lambda x: x)

    cond = image_latents.permute(0, 2, 1, 3, 4).to(dtype)  # (B, 1, 16, h, w)
    cond = double(torch.cat([cond, cond.new_zeros(b, t - 1, LATENT_CHANNELS, h, w)], 1))
    latents = torch.randn((b, t, LATENT_CHANNELS, h, w), generator=generator).to(device, dtype)
    latents = latents * sched.init_noise_sigma
    rope = rotary_embedding(core.config, t, h, w, device)
    ofs = latents.new_full((1,), 2.0) if core.config.ofs_embed_dim else None
    camera = tuple(None if x is None else double(x) for x in core.camera_tokens(plucker.to(device)))
    text = text.to(device, dtype)
    old_x0, inputs = None, []
    for i, step in enumerate(timesteps):
        z = latents.detach() if detach_inputs else latents
        model_input = torch.cat([sched.scale_model_input(double(z), step), cond], dim=2)  # (B', T, 32, h, w)
        if keep_inputs:
            inputs.append(model_input)
        with torch.set_grad_enabled(i in grad_steps and torch.is_grad_enabled()):
            pred = model(model_input, text, step.expand(model_input.shape[0]), camera_tokens=camera, ofs=ofs,
                         image_rotary_emb=rope, return_dict=False)[0].float()
        if cfg:
            uncond, cond_pred = pred.chunk(2)
            pred = uncond + guidance_scale * (cond_pred - uncond)
        if isinstance(sched, CogVideoXDPMScheduler):
            latents, old_x0 = sched.step(pred, old_x0, step, timesteps[i - 1] if i > 0 else None, latents,
                                         generator=generator, return_dict=False)
        else:
            latents = sched.step(pred, step, latents, return_dict=False)[0]
        latents = latents.to(dtype)
    return Rollout(latents.permute(0, 2, 1, 3, 4), num_steps, list(grad_steps), inputs if keep_inputs else None)


def decode_with_grad(vae, latents: Tensor) -> Tensor:
    """`wonderland.vae.decode_latents` with gradient: scaled latents (B, 16, T, h, w) -> (B, 4T-3, 3, 8h, 8w)
    in [0, 1]."""
    from wonderland.latents import from_vae_range

    x = vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor).sample  # (B, 3, F, H, W)
    return from_vae_range(x.float()).permute(0, 2, 1, 3, 4)
