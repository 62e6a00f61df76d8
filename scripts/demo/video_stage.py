"""Stages 2 and 3: the tiny CogVideoX I2V base, then its camera branches on the frozen base.

There is no pretrained small CogVideoX, so stage 2 pretrains the stock `CogVideoXTransformer3DModel`
(`BASE_SMALL`) on the I2V objective with no camera; stage 3 is the paper's recipe on top of it: a
`CameraVideoTransformer` built from the trained base (the control blocks are copies of its first blocks),
base frozen, camera encoders + control branch + camera-LoRA trained. Both use camera_video's own loss
(`i2v_loss`), batch preparation (`prepare_batch`: Plücker maps of the normalised cameras) and the
CogVideoX-5B-I2V scheduler. Latents are encoded once with the trained VAE (encoding dominates otherwise).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable

import torch
from torch import Tensor, nn

from .common import Clips, Deadline

log = logging.getLogger(__name__)
# Camera branches: control copies of the first half of the blocks (the paper's 21 of 42), LoRA rank 32.
CAMERA = dict(num_control_blocks=2, lora_rank=32, encoder_channels=32, encoder_layers=1)


@torch.no_grad()
def encode_clips(vae, clips: Clips, seed: int = 0) -> dict[str, Tensor]:
    """latents (N, 16, 13, 4, 6) (posterior mode) and image_latents (N, 16, 1, 4, 6) (a posterior sample of
    the clean first frame, as the sampler encodes the input image)."""
    from wonderland.vae import encode_video

    gen = torch.Generator().manual_seed(seed)
    lat = torch.cat([encode_video(vae, clips.frames[i:i + 1]) for i in range(len(clips))])
    img = torch.cat([encode_video(vae, clips.frames[i:i + 1, :1], sample=True, generator=gen)
                     for i in range(len(clips))])
    return {"latents": lat, "image_latents": img}


def _fit(model: nn.Module, params: list, cache: dict[str, Tensor], clips: Clips, prompts, steps: int,
         seconds: float | None, batch: int, lr: float, camera: bool, seed: int, name: str,
         poll: Callable[[], None] | None = None) -> dict:
    from diffusers import CogVideoXDPMScheduler

    from camera_video.data import prepare_batch, seeded
    from camera_video.models import SCHEDULER_5B_I2V
    from camera_video.pretrain import fit_i2v

    def batch_at(step: int) -> tuple[dict, torch.Generator]:
        gen = seeded(seed, step)  # the clips and the noise of a step
        idx = torch.randint(len(clips), (batch,), generator=gen)
        raw = {"latents": cache["latents"][idx], "image_latents": cache["image_latents"][idx],
               "c2w": clips.c2w[idx], "K": clips.K[idx], "key": [clips.keys[i] for i in idx]}
        inputs = prepare_batch(raw, prompts)
        if not camera:
            inputs.pop("plucker")
        return inputs, gen

    clock = Deadline(seconds)

    def stop() -> bool:  # called once per step, in this (the training) thread
        if poll is not None:
            poll()
        return clock.passed()

    losses = fit_i2v(model, params, CogVideoXDPMScheduler(**SCHEDULER_5B_I2V), batch_at, steps, lr, name=name,
                     stop=stop)
    model.requires_grad_(False)
    tail = losses[-50:]
    return {"steps": len(losses), "seconds": clock.elapsed, "batch": batch, "lr": lr,
            "first_loss": sum(losses[:50]) / len(losses[:50]), "last_loss": sum(tail) / len(tail)}


def train_base(cache, clips: Clips, prompts, steps: int, seconds: float | None, batch: int = 8,
               lr: float = 1e-3, seed: int = 0, poll: Callable[[], None] | None = None) -> tuple[object, dict]:
    """The stock tiny CogVideoX transformer trained on image-to-video without a camera."""
    from diffusers import CogVideoXTransformer3DModel

    from camera_video.models import BASE_SMALL
    from camera_video.pretrain import StockI2V

    torch.manual_seed(seed)
    base = CogVideoXTransformer3DModel(**BASE_SMALL)
    model = StockI2V(base)
    stats = _fit(model, list(base.parameters()), cache, clips, prompts, steps, seconds, batch, lr, False, seed,
                 "base", poll)
    return base, stats


def train_camera(base, cache, clips: Clips, prompts, steps: int, seconds: float | None, batch: int = 8,
                 lr: float = 1e-3, seed: int = 1, poll: Callable[[], None] | None = None) -> tuple[object, dict]:
    """Camera branches on a frozen copy of `base` (the control blocks start as copies of its blocks)."""
    from camera_video.models import CameraControlConfig, CameraVideoTransformer

    torch.manual_seed(seed)
    model = CameraVideoTransformer(copy.deepcopy(base), CameraControlConfig(**CAMERA))
    params = [p for p in model.parameters() if p.requires_grad]
    stats = _fit(model, params, cache, clips, prompts, steps, seconds, batch, lr, True, seed, "camera", poll)
    return model, stats | {"trainable_parameters": sum(p.numel() for p in params)}
