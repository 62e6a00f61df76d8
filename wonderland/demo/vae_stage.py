"""Stage 1: a tiny `AutoencoderKLCogVideoX` (wonderland.vae.build_tiny_vae) trained from scratch, on the shared
training loop (`wonderland.training.fit`: checkpoints, resume, run log).

Training clips are 9 frames (3 latent frames: the causal first frame plus two 4-frame groups, so the
temporal compression path trains) cropped to 16 x 24; the VAE is convolutional, so it runs on the full
32 x 48 afterwards. Loss: L1 + MSE + a small KL. At the end `scaling_factor` is set to 1 / std of the
latents (the Stable Diffusion practice), so the transformer sees unit-variance latents. The learning rate
is constant for the first half, then linearly down to 10% (`optim.schedule=wsd`): short runs end on a low rate.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from .common import HEIGHT, WIDTH, Clips

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


def random_crop(clips: Clips, gen: torch.Generator, recolour_p: float = 0.0) -> Tensor:
    """(3, 9, 16, 24) in [-1, 1]: random scene, start frame, 8-aligned crop, horizontal flip and, with
    probability `recolour_p`, a random recolouring."""
    n = int(torch.randint(len(clips), (1,), generator=gen))
    s = int(torch.randint(clips.frames.shape[1] - CLIP_FRAMES + 1, (1,), generator=gen))
    top = 8 * int(torch.randint((HEIGHT - CROP[0]) // 8 + 1, (1,), generator=gen))
    left = 8 * int(torch.randint((WIDTH - CROP[1]) // 8 + 1, (1,), generator=gen))
    x = clips.frames[n, s:s + CLIP_FRAMES, :, top:top + CROP[0], left:left + CROP[1]]  # (9, 3, h, w)
    if torch.rand((), generator=gen) < 0.5:
        x = x.flip(-1)
    if recolour_p > 0 and torch.rand((), generator=gen) < recolour_p:
        x = recolour(x, gen)
    return x.permute(1, 0, 2, 3) * 2 - 1


def random_crops(clips: Clips, batch: int, gen: torch.Generator, recolour_p: float = 0.0) -> Tensor:
    """(B, 3, 9, 16, 24): `batch` crops drawn one after another from `gen`."""
    return torch.stack([random_crop(clips, gen, recolour_p) for _ in range(batch)])


class Crops(Dataset):
    """The training stream: crop i is a function of (seed, i) (`wonderland.training.seeded`)."""

    def __init__(self, clips: Clips, seed: int, recolour_p: float = 0.0):
        self.clips, self.seed, self.recolour_p = clips, seed, recolour_p

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> Tensor:
        from wonderland.training import seeded

        return random_crop(self.clips, seeded(self.seed, i), self.recolour_p)


def _fit(vae, clips: Clips, out: Path, steps: int, batch: int, lr: float, seed: int, loss, recolour_p: float = 0.0,
         stop_after: int | None = None, name: str = "demo-vae", device: str = "auto") -> dict:
    """`fit` the trainable parameters of `vae` on crops (on `device`: `trainer.device`); -> steps, first/last loss
    (mean of 10), settings. The model comes back on the CPU, where the recipe's later steps read it."""
    from wonderland.training import OptimConfig, Task, TrainerConfig, fit, make_accelerator, read_log

    t = TrainerConfig(output_dir=str(out), seed=seed, max_steps=steps, batch_size=batch, grad_clip=1.0,
                      mixed_precision="no", checkpoint_every=max(1, steps // 4), keep_last=1, resume="auto",
                      stop_after=stop_after, log_every=10, progress=False, device=device)
    o = OptimConfig(lr=lr, min_lr=lr / 10, betas=[0.9, 0.95], weight_decay=0.0, schedule="wsd")
    task = Task(name, vae, Crops(clips, seed, recolour_p), loss, collate=torch.stack)
    result = fit(make_accelerator(t), task, t, o)
    log = read_log(out)
    vae.cpu().eval().requires_grad_(False)
    return {"steps": result.step, "first_loss": log[0]["loss"], "last_loss": log[-1]["loss"], "batch": batch,
            "lr": lr, "seed": seed, "clip": [CLIP_FRAMES, *CROP]}


def train_vae(clips: Clips, steps: int, out: Path, batch: int = 4, lr: float = 2e-3, kl_weight: float = 1e-4,
              seed: int = 0, recolour_p: float = 0.0, sample_posterior: bool = True, init=None,
              device: str = "auto") -> tuple[object, dict]:
    """A new tiny VAE trained for `steps` steps (or `init` trained further); run folder `out`."""
    from wonderland.vae import build_tiny_vae

    torch.manual_seed(seed)
    vae = init if init is not None else build_tiny_vae(HEIGHT, WIDTH, block_out_channels=CHANNELS)
    vae.train().requires_grad_(True)

    def loss(model, x: Tensor, gen: torch.Generator) -> dict[str, Tensor]:  # x (B, 3, 9, 16, 24)
        post = model.encode(x).latent_dist
        y = model.decode(post.sample(gen) if sample_posterior else post.mode()).sample
        kl = 0.5 * (post.mean.square() + post.var - 1 - post.logvar).mean()
        return {"loss": (y - x).abs().mean() + (y - x).square().mean() + kl_weight * kl, "kl": kl}

    stats = _fit(vae, clips, out, steps, batch, lr, seed, loss, recolour_p, device=device)
    set_latent_scale(vae, clips)
    return vae, stats | {"recolour_p": recolour_p, "scaling_factor": vae.config.scaling_factor}


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


def train_decoder(vae, clips: Clips, steps: int, out: Path, batch: int = 4, lr: float = 5e-4, seed: int = 1,
                  stop_after: int | None = None, device: str = "auto") -> tuple[object, dict]:
    """`vae` with only its decoder (and post-quant conv) trained on `clips`: a `steps`-step schedule from `lr`,
    stopped after `stop_after` steps if given (the committed family's decoder: 400 of 1600).

    The encoder and `scaling_factor` stay exactly as they are, so the latent space every later stage was trained
    on is unchanged: the video model and the LaLRM of the family keep working. The decoder sees posterior
    samples, as in `train_vae`, which keeps it tolerant of latents that are not the encoder's own."""
    torch.manual_seed(seed)
    vae.eval().requires_grad_(False)
    trained = [vae.decoder] + ([vae.post_quant_conv] if vae.post_quant_conv is not None else [])
    for m in trained:
        m.requires_grad_(True)

    def loss(model, x: Tensor, gen: torch.Generator) -> dict[str, Tensor]:
        with torch.no_grad():
            z = model.encode(x).latent_dist.sample(gen)
        y = model.decode(z).sample
        return {"loss": (y - x).abs().mean() + (y - x).square().mean()}

    class DecoderOnly(torch.nn.Module):  # fit() calls .train(): only the decoder leaves eval mode
        def __init__(self, vae):
            super().__init__()
            self.vae = vae

        def train(self, mode: bool = True):
            for m in trained:
                m.train(mode)
            return self

    stats = _fit(DecoderOnly(vae), clips, out, steps, batch, lr, seed, lambda m, x, g: loss(m.vae, x, g),
                 stop_after=stop_after, name="demo-vae-decoder", device=device)
    vae.eval().requires_grad_(False)
    return vae, stats | {"schedule_steps": steps, "trained": "decoder"}
