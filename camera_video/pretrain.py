"""Pre-train a small stock CogVideoX I2V base (no camera) for configs that have no released base weights.

The paper trains its camera branches on the released CogVideoX-5B-I2V. Small configs (tests, the bundled
demo) have no released base, and camera branches on a random frozen base barely learn: the frozen blocks
and output projection do not predict video, so there is nothing for a camera to steer. This trains the
stock diffusers `CogVideoXTransformer3DModel` on the same I2V objective (`i2v_loss`, no Plücker map), after
which `save_pretrained` gives a directory that `model.pretrained` / `build_camera_transformer` load.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
from torch import Tensor, nn

from .loss import i2v_loss

log = logging.getLogger(__name__)


class StockI2V(nn.Module):
    """The stock base behind `i2v_loss`'s model interface (`plucker` must be None: there is no camera)."""

    def __init__(self, base):
        super().__init__()
        self.base = base

    config = property(lambda self: self.base.config)
    dtype = property(lambda self: self.base.dtype)

    def forward(self, hidden_states: Tensor, encoder_hidden_states: Tensor, timestep: Tensor, plucker=None,
                image_rotary_emb=None, return_dict: bool = False):
        if plucker is not None:
            raise ValueError("the stock base takes no camera: drop 'plucker' from the batch")
        return self.base(hidden_states=hidden_states, encoder_hidden_states=encoder_hidden_states,
                         timestep=timestep, image_rotary_emb=image_rotary_emb, return_dict=return_dict)


def linear_decay(optimizer: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """lr: constant for the first half, then linearly down to 10% (short runs end on a low lr)."""
    half = steps // 2
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 1.0 if s < half else max(0.1, 1 - (s - half) / max(1, steps - half)))


def fit_i2v(model: nn.Module, params: list, scheduler, batch_at: Callable[[int], tuple[dict, torch.Generator]],
            steps: int, lr: float = 1e-3, log_every: int = 50, name: str = "i2v",
            stop: Callable[[], bool] | None = None) -> list[float]:
    """AdamW on `params` with `i2v_loss` for `steps` steps (or until `stop()`), lr by `linear_decay`, gradients
    clipped to norm 1; returns the per-step losses. `batch_at(step)` gives the batch (latents (B, 16, T, h, w),
    image_latents (B, 16, 1, h, w), prompt_embeds (B, L, D), optional plucker) and the generator for its noise."""
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=1e-4)
    sched = linear_decay(opt, steps)
    losses: list[float] = []
    model.train()
    for step in range(steps):
        batch, gen = batch_at(step)
        loss = i2v_loss(model, scheduler, batch, gen)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if log_every and step % log_every == 0:
            recent = losses[-log_every:]
            log.info("%s step %d loss %.4f (mean of the last %d)", name, step, sum(recent) / len(recent), len(recent))
        if stop is not None and stop():
            break
    model.eval()
    return losses


def pretrain_base(base, scheduler, batch_at: Callable[[int], dict], steps: int, lr: float = 1e-3,
                  seed: int = 0, log_every: int = 50) -> list[float]:
    """Trains every parameter of `base` in place (`fit_i2v` on `StockI2V(base)`) and returns the per-step
    losses. `batch_at(step)` gives latents, image_latents and prompt_embeds (a plucker entry is dropped);
    noise and timesteps are drawn from `seed`."""
    gen = torch.Generator().manual_seed(seed)

    def without_camera(step: int) -> tuple[dict, torch.Generator]:
        return {k: v for k, v in batch_at(step).items() if k != "plucker"}, gen

    params = [p for p in base.parameters() if p.requires_grad]
    return fit_i2v(StockI2V(base), params, scheduler, without_camera, steps, lr, log_every, "base pre-training")
