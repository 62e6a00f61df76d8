"""Stage 1: a tiny `AutoencoderKLCogVideoX` (wonderland.vae.build_tiny_vae) trained from scratch.

Training clips are 9 frames (3 latent frames: the causal first frame plus two 4-frame groups, so the
temporal compression path trains) cropped to 16 x 24; the VAE is convolutional, so it runs on the full
32 x 48 afterwards. Loss: L1 + MSE + a small KL. At the end `scaling_factor` is set to 1 / std of the
latents (the Stable Diffusion practice), so the transformer sees unit-variance latents.
"""

from __future__ import annotations

import logging

import torch
from torch import Tensor

from camera_video.pretrain import linear_decay

from .common import HEIGHT, WIDTH, Clips, Deadline

log = logging.getLogger(__name__)
CLIP_FRAMES, CROP = 9, (16, 24)
# 32 channels per level instead of the test VAE's 16: +0.6 dB held-out reconstruction at equal steps
# (15.4 -> 16.0 dB after 600 steps) for 1.7x the step time; still < 1 MB of weights.
CHANNELS = (32, 32, 32, 32)


def recolour(x: Tensor, gen: torch.Generator) -> Tensor:
    """x (..., 3, H, W) in [0, 1] -> the same clip with its RGB channels permuted and each channel mapped by a
    random increasing affine map into [0, 1], so that colours unlike the training scenes' pass through the
    latent. Measured at 400 steps it did not help (MODEL_CARD, 'Making it better'): off by default."""
    perm = torch.randperm(3, generator=gen)
    gain = 0.5 + 0.5 * torch.rand(3, generator=gen)  # (3,)
    offset = (1 - gain) * torch.rand(3, generator=gen)
    return x[..., perm, :, :] * gain[:, None, None] + offset[:, None, None]


def random_crops(clips: Clips, batch: int, gen: torch.Generator, recolour_p: float = 0.0) -> Tensor:
    """(B, 3, 9, 16, 24) in [-1, 1]: random scene, start frame, 8-aligned crop, horizontal flip and, with
    probability `recolour_p`, a random recolouring."""
    out = []
    for _ in range(batch):
        n = int(torch.randint(len(clips), (1,), generator=gen))
        s = int(torch.randint(clips.frames.shape[1] - CLIP_FRAMES + 1, (1,), generator=gen))
        top = 8 * int(torch.randint((HEIGHT - CROP[0]) // 8 + 1, (1,), generator=gen))
        left = 8 * int(torch.randint((WIDTH - CROP[1]) // 8 + 1, (1,), generator=gen))
        x = clips.frames[n, s:s + CLIP_FRAMES, :, top:top + CROP[0], left:left + CROP[1]]  # (9, 3, h, w)
        if torch.rand((), generator=gen) < 0.5:
            x = x.flip(-1)
        if recolour_p > 0 and torch.rand((), generator=gen) < recolour_p:
            x = recolour(x, gen)
        out.append(x.permute(1, 0, 2, 3))
    return torch.stack(out) * 2 - 1


def _optimizer_step(loss: Tensor, params: list, opt, sched) -> float:
    """backward, clip the gradient norm to 1, step the optimizer and the schedule; returns the loss value."""
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    sched.step()
    opt.zero_grad(set_to_none=True)
    return loss.item()


def train_vae(clips: Clips, steps: int, seconds: float | None, batch: int = 4, lr: float = 2e-3,
              kl_weight: float = 1e-4, seed: int = 0, recolour_p: float = 0.0,
              sample_posterior: bool = True, init=None) -> tuple[object, dict]:
    """A new tiny VAE trained for `steps` steps (linear decay from `lr`), or `init` trained further."""
    from wonderland.vae import build_tiny_vae

    torch.manual_seed(seed)
    vae = init if init is not None else build_tiny_vae(HEIGHT, WIDTH, block_out_channels=CHANNELS)
    vae.train().requires_grad_(True)
    opt = torch.optim.AdamW(vae.parameters(), lr=lr, weight_decay=0.0)
    sched = linear_decay(opt, steps)
    gen, clock, losses = torch.Generator().manual_seed(seed), Deadline(seconds), []
    for step in range(steps):
        x = random_crops(clips, batch, gen, recolour_p)
        post = vae.encode(x).latent_dist
        y = vae.decode(post.sample(gen) if sample_posterior else post.mode()).sample
        kl = 0.5 * (post.mean.square() + post.var - 1 - post.logvar).mean()
        loss = (y - x).abs().mean() + (y - x).square().mean() + kl_weight * kl
        losses.append(_optimizer_step(loss, list(vae.parameters()), opt, sched))
        if step % 20 == 0:
            log.info("vae step %d loss %.4f (%.0f s)", step, loss.item(), clock.elapsed)
        if clock.passed():
            break
    vae.eval().requires_grad_(False)
    set_latent_scale(vae, clips)
    return vae, {"steps": len(losses), "seconds": clock.elapsed, "first_loss": losses[0], "last_loss":
                 sum(losses[-10:]) / len(losses[-10:]), "batch": batch, "clip": [CLIP_FRAMES, *CROP], "lr": lr,
                 "recolour_p": recolour_p, "scaling_factor": vae.config.scaling_factor}


@torch.no_grad()
def set_latent_scale(vae, clips: Clips, num: int = 8) -> None:
    """scaling_factor = 1 / std of unscaled posterior means of `num` whole training clips."""
    z = vae.encode(clips.frames[:num].permute(0, 2, 1, 3, 4) * 2 - 1).latent_dist.mode()
    vae.register_to_config(scaling_factor=round(1.0 / float(z.std()), 4))


@torch.no_grad()
def reconstruction_psnr(vae, clips: Clips, block: int = 1) -> float:
    """Mean PSNR of encode -> decode over whole 49-frame clips (the VAE's ceiling for every later stage);
    block > 1 compares block x block means instead of pixels (how well each block's colour survives)."""
    from torch.nn.functional import avg_pool2d

    from wonderland.metrics import psnr
    from wonderland.vae import decode_latents, encode_video

    values = []
    for i in range(len(clips)):
        rec = decode_latents(vae, encode_video(vae, clips.frames[i:i + 1]))[0].clamp(0, 1)  # (F, 3, H, W)
        values.append(psnr(avg_pool2d(rec, block), avg_pool2d(clips.frames[i], block)).mean())
    return float(torch.stack(values).mean())


def train_decoder(vae, clips: Clips, steps: int, seconds: float | None = None, batch: int = 4, lr: float = 5e-4,
                  seed: int = 1, stop_after: int | None = None) -> tuple[object, dict]:
    """`vae` with only its decoder (and post-quant conv) trained on `clips`: a `steps`-step linear decay from `lr`,
    stopped after `stop_after` steps if given (the committed family's decoder: 400 of 1600).

    The encoder and `scaling_factor` stay exactly as they are, so the latent space every later stage was trained
    on is unchanged: the video model and the LaLRM of the family keep working. The decoder sees posterior
    samples, as in `train_vae`, which keeps it tolerant of latents that are not the encoder's own."""
    torch.manual_seed(seed)
    vae.requires_grad_(False)
    trained = [vae.decoder] + ([vae.post_quant_conv] if vae.post_quant_conv is not None else [])
    for m in trained:
        m.requires_grad_(True)
    params = [p for p in vae.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    sched = linear_decay(opt, steps)
    gen, clock, losses = torch.Generator().manual_seed(seed), Deadline(seconds), []
    vae.eval()
    for m in trained:
        m.train()
    for step in range(steps if stop_after is None else min(steps, stop_after)):
        x = random_crops(clips, batch, gen)  # (B, 3, 9, 16, 24)
        with torch.no_grad():
            z = vae.encode(x).latent_dist.sample(gen)
        y = vae.decode(z).sample
        loss = (y - x).abs().mean() + (y - x).square().mean()
        losses.append(_optimizer_step(loss, params, opt, sched))
        if step % 50 == 0:
            log.info("vae decoder step %d loss %.4f (%.0f s)", step, loss.item(), clock.elapsed)
        if clock.passed():
            break
    vae.eval().requires_grad_(False)
    return vae, {"steps": len(losses), "seconds": clock.elapsed, "first_loss": losses[0],
                 "last_loss": sum(losses[-10:]) / len(losses[-10:]), "batch": batch, "lr": lr, "seed": seed,
                 "schedule_steps": steps, "trained": "decoder"}
