"""The CogVideoX I2V training objective (diffusers' CogVideoX image-to-video recipe), camera added.

Noisy latents = scheduler.add_noise(latents, noise, t) with t ~ U{0..999}; the model input is their
channel concat with the image condition (frame-0 latent, zero-padded to T frames). The model predicts
v; `scheduler.get_velocity(v_pred, x_t, t)` turns it into x0_pred, and the loss is
mean(1 / (1 - alphā_t) * (x0_pred - x0)^2), which is exactly the v-prediction MSE.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .models.rotary import rotary_embedding


class StockI2V(nn.Module):
    """A stock `CogVideoXTransformer3DModel` behind `i2v_loss`'s model interface (stage=base: no camera)."""

    def __init__(self, base):
        super().__init__()
        self.base = base

    config = property(lambda self: self.base.config)
    dtype = property(lambda self: self.base.dtype)

    def enable_gradient_checkpointing(self) -> None:
        self.base.enable_gradient_checkpointing()

    def forward(self, hidden_states: Tensor, encoder_hidden_states: Tensor, timestep: Tensor, plucker=None,
                image_rotary_emb=None, return_dict: bool = False):
        if plucker is not None:
            raise ValueError("the stock base takes no camera: drop 'plucker' from the batch")
        return self.base(hidden_states=hidden_states, encoder_hidden_states=encoder_hidden_states,
                         timestep=timestep, image_rotary_emb=image_rotary_emb, return_dict=return_dict)


def i2v_model_input(noisy: Tensor, image_latents: Tensor) -> Tensor:
    """noisy (B, T, 16, h, w), image_latents (B, 1, 16, h, w) -> (B, T, 32, h, w), image frame then zeros."""
    pad = image_latents.new_zeros(noisy.shape[0], noisy.shape[1] - 1, *noisy.shape[2:])
    return torch.cat([noisy, torch.cat([image_latents, pad], dim=1)], dim=2)


def i2v_loss(model, scheduler, batch: dict[str, Tensor], generator: torch.Generator | None = None,
             timesteps: Tensor | None = None, per_sample: bool = False) -> Tensor:
    """batch: latents (B, 16, T, h, w), image_latents (B, 16, 1, h, w), plucker (B, F, 6, H, W) or None,
    prompt_embeds (B, L, D). Noise and timesteps come from `generator` (or `timesteps` is given)."""
    latents = batch["latents"].permute(0, 2, 1, 3, 4)  # (B, T, 16, h, w)
    image_latents = batch["image_latents"].permute(0, 2, 1, 3, 4)  # (B, 1, 16, h, w)
    b, t, _, h, w = latents.shape
    core = getattr(model, "module", model)  # under DDP the wrapper sits in .module
    device, dtype = latents.device, core.dtype
    if timesteps is None:
        timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (b,), generator=generator)
    noise = torch.randn(latents.shape, generator=generator).to(latents)
    timesteps = timesteps.to(device)
    noisy = scheduler.add_noise(latents, noise, timesteps)
    plucker = batch.get("plucker")
    pred = model(i2v_model_input(noisy, image_latents).to(dtype), batch["prompt_embeds"].to(device, dtype),
                 timesteps, plucker=None if plucker is None else plucker.to(device, dtype),
                 image_rotary_emb=rotary_embedding(core.config, t, h, w, device), return_dict=False)[0]
    x0_pred = scheduler.get_velocity(pred.float(), noisy, timesteps)
    weights = 1 / (1 - scheduler.alphas_cumprod.to(device, torch.float32)[timesteps])
    loss = (weights[:, None] * (x0_pred - latents).square().flatten(1)).mean(1)
    return loss if per_sample else loss.mean()
