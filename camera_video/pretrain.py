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


def pretrain_base(base, scheduler, batch_at: Callable[[int], dict], steps: int, lr: float = 1e-3,
                  seed: int = 0, log_every: int = 50) -> list[float]:
    """Trains every parameter of `base` in place for `steps` AdamW steps (lr constant for the first half, then
    linearly down to 10%) and returns the per-step losses. `batch_at(step)` gives latents (B, 16, T, h, w),
    image_latents (B, 16, 1, h, w) and prompt_embeds (B, L, D); noise and timesteps are drawn from `seed`."""
    model = StockI2V(base).train()
    params = [p for p in base.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=1e-4)
    half = steps // 2

    def lr_factor(s: int) -> float:
        return 1.0 if s < half else max(0.1, 1 - (s - half) / (steps - half))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    gen, losses = torch.Generator().manual_seed(seed), []
    for step in range(steps):
        batch = {k: v for k, v in batch_at(step).items() if k != "plucker"}
        loss = i2v_loss(model, scheduler, batch, gen)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if log_every and step % log_every == 0:
            recent = losses[-log_every:]
            log.info("base pre-training step %d loss %.4f (mean of the last %d)", step, sum(recent) / len(recent),
                     len(recent))
    base.eval()
    return losses
