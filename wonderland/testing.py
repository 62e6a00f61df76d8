"""Shared fixtures for tests, benchmarks and the demo recipe (as diffusers' `testing_utils`): the tiny model
configs, tiny model families written to disk, synthetic scenes, and a helper that kills a trainer mid-run.

The tiny configs are read from `configs/` (one per model: `configs/camera_video/model/tiny.yaml` names the
tiny CogVideoX twin `BASE_TINY` and its camera branches; `configs/lalrm/model/tiny.yaml`), so a test, a
benchmark and a smoke run all use the same sizes. This module joins both subsystems (a family holds both
models): it is top layer, like `wonderland.pipeline`, and nothing in the core or the subsystems imports it.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import torch
import torch.nn.functional as F

from .geometry import K_from_fov, look_at, ray_bundle

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
TINY_SIZE = (32, 48)  # (H, W) of the tiny CogVideoX twin: latents 4 x 6


@cache
def _yaml(path: Path) -> dict:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(path), resolve=True)


def tiny_camera_config():
    """The camera branches of `configs/camera_video/model/tiny.yaml` as a `CameraControlConfig`."""
    from camera_video.models import CameraControlConfig

    return CameraControlConfig(**_yaml(CONFIGS / "camera_video" / "model" / "tiny.yaml")["camera"])


def tiny_lalrm_kwargs(**overrides) -> dict:
    """`configs/lalrm/model/tiny.yaml`: the LaLRM constructor arguments of every tiny run."""
    return {**_yaml(CONFIGS / "lalrm" / "model" / "tiny.yaml"), **overrides}


def tiny_stock(seed: int = 0, num_frames: int | None = None):
    """The stock tiny CogVideoX transformer (`BASE_TINY`), randomly initialised from `seed`; `num_frames` changes
    only the frame count it declares (RoPE: the weights are the same)."""
    from diffusers import CogVideoXTransformer3DModel

    from camera_video.models import BASE_TINY

    frames = {} if num_frames is None else {"sample_frames": num_frames}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return CogVideoXTransformer3DModel(**{**BASE_TINY, **frames}).eval()


def perturb_trainable(model, scale: float = 0.1, seed: int = 1) -> None:
    """Stand-in for training: random values in every zero-initialised camera layer (zero linears, lora_B, the
    encoders' output projections and the fuse's zero half), so that the camera matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad and ("zero_linears" in name or "lora_B" in name or "proj" in name):
                p.copy_(torch.randn(p.shape, generator=g) * scale)
        if getattr(model, "fuse", None) is not None:
            w = model.fuse.weight
            w[:, w.shape[0]:] = torch.randn(w.shape[0], w.shape[0], generator=g) * scale


def build_tiny_family(path: str | Path, seed: int = 0, name: str = "tiny-test", num_frames: int = 49) -> Path:
    """A complete model family of the tiny configs, written with `save_family` so the real loading path runs.
    The camera layers are perturbed (a trained camera must matter); the LaLRM is its fresh initialisation.
    `num_frames` < 49 (e.g. 9) makes a family that is much faster to sample and train on a CPU."""
    from diffusers import CogVideoXDPMScheduler

    from camera_video.models import BASE_TINY, SCHEDULER_5B_I2V, CameraVideoTransformer
    from lalrm.model import LaLRM

    from .pipeline.family import save_family
    from .vae import build_tiny_vae

    stock = tiny_stock(seed, None if num_frames == 49 else num_frames)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        camera = CameraVideoTransformer(copy.deepcopy(stock), tiny_camera_config())
        perturb_trainable(camera, scale=0.05, seed=seed)
        vae = build_tiny_vae(*TINY_SIZE)
        lalrm = LaLRM(**tiny_lalrm_kwargs())
        g = torch.Generator().manual_seed(seed)
        embeds = torch.randn(1, BASE_TINY["max_text_seq_length"], BASE_TINY["text_embed_dim"], generator=g)
    return save_family(path, stock, camera, vae, CogVideoXDPMScheduler(**SCHEDULER_5B_I2V), lalrm, *TINY_SIZE,
                       num_frames=num_frames, name=name, prompt_embeds=embeds,
                       negative_prompt_embeds=torch.zeros_like(embeds),
                       defaults={"num_inference_steps": 2, "guidance_scale": 2.0})


def write_synth(root: str | Path, num_scenes: int, num_frames: int = 49, height: int = TINY_SIZE[0],
                width: int = TINY_SIZE[1], seed: int = 0, fmt: str = "re10k") -> Path:
    """wonderland-synth scenes in a real on-disk layout (RE10K or DL3DV), one worker."""
    from .data.synth import write_synthetic_dataset

    write_synthetic_dataset(root, num_scenes, num_frames=num_frames, height=height, width=width, seed=seed,
                            format=fmt, workers=1)
    return Path(root)


def compose(config_dir: str | Path, overrides: list[str], config_name: str = "config"):
    """A Hydra config composed from `configs/<...>` with overrides, as the entry points compose it."""
    from .hydra_entry import compose as hydra_compose

    return hydra_compose(config_dir, overrides, config_name)


# ---- a textured room for SfM (tests of wonderland.sfm, the camera-error scores, their benchmark) ------
ROOM_MIN, ROOM_MAX = torch.tensor([-3.0, -2.0, -3.0]), torch.tensor([3.0, 2.0, 5.0])


def face_textures(gen: torch.Generator, size: int = 384) -> torch.Tensor:
    """Six (3, size, size) multi-octave colour-noise textures: rich, non-repeating detail for SIFT."""
    tex = torch.zeros(6, 3, size, size)
    for cells, weight in ((4, 1.0), (12, 0.7), (36, 0.5), (96, 0.35)):
        noise = torch.rand(6, 3, cells, cells, generator=gen)
        tex += weight * F.interpolate(noise, size=(size, size), mode="bicubic", align_corners=False)
    lo, hi = tex.amin((2, 3), keepdim=True), tex.amax((2, 3), keepdim=True)
    return (tex - lo) / (hi - lo)


def render_room(c2w: torch.Tensor, K: torch.Tensor, h: int, w: int, textures: torch.Tensor) -> torch.Tensor:
    """Ray-cast the inside of the box ROOM_MIN..ROOM_MAX: (F, 4, 4) cameras -> (F, 3, H, W) in [0, 1]."""
    o, d = ray_bundle(c2w, K, h, w)  # (F, H, W, 3) each
    bound = torch.where(d > 0, ROOM_MAX, ROOM_MIN)
    t_axis = (bound - o) / d  # exit distance through each axis' wall
    t, axis = t_axis.min(-1)
    hit = o + t[..., None] * d
    out = torch.zeros(*t.shape, 3)
    for a in range(3):
        for side in range(2):
            sel = (axis == a) & ((d[..., a] > 0) == bool(side))
            u_ax, v_ax = [b for b in range(3) if b != a]
            uv = torch.stack([hit[..., u_ax], hit[..., v_ax]], -1)
            uv = 2 * (uv - ROOM_MIN[[u_ax, v_ax]]) / (ROOM_MAX - ROOM_MIN)[[u_ax, v_ax]] - 1  # grid_sample coords
            face = F.grid_sample(textures[2 * a + side][None], uv.reshape(1, -1, 1, 2), align_corners=False)
            out[sel] = face[0, :, :, 0].T.reshape(*t.shape, 3)[sel]
    return out.permute(0, 3, 1, 2).clamp(0, 1)


def room_clip(num_frames: int = 16, h: int = 128, w: int = 192, seed: int = 0):
    """A camera moving through the room: frames (F, 3, h, w), c2w (F, 4, 4), K (3, 3)."""
    gen = torch.Generator().manual_seed(seed)
    s = torch.linspace(0, 1, num_frames)
    eyes = torch.stack([-0.6 + 1.2 * s, 0.15 * torch.sin(math.pi * s), -0.4 + 0.8 * s], -1)
    targets = torch.stack([1.5 * torch.sin(0.5 * s), 0.3 * s, torch.full_like(s, 4.0)], -1)
    c2w = look_at(eyes, targets)
    K = K_from_fov(60.0, h, w).float()
    return render_room(c2w, K, h, w, face_textures(gen)), c2w, K


# ---- a trainer killed mid-run ------------------------------------------------------------------------
class Killed(BaseException):
    """Raised by `killed_after_checkpoint`: a BaseException, so nothing on the way out mistakes it for an error
    to handle (as nothing can handle a SIGKILL)."""


@contextlib.contextmanager
def killed_after_checkpoint(step: int) -> Iterator[None]:
    """Within the block, a trainer dies right after publishing the checkpoint of `step` (inside the next step,
    for the disk: the newest checkpoint is `step`, later work is lost). In-process, so a test of every trainer
    costs no interpreter start; the real SIGKILL (while a checkpoint is being written) is tested on the shared
    loop itself (tests/training/test_loop.py)."""
    from .training import checkpoint

    save = checkpoint.Checkpointer.save

    def save_then_die(self, done: int):
        path = save(self, done)
        if done == step:
            raise Killed(f"killed after the checkpoint of step {step}")
        return path

    checkpoint.Checkpointer.save = save_then_die
    try:
        yield
    except Killed:
        pass
    else:
        raise AssertionError(f"the run ended before the checkpoint of step {step}")
    finally:
        checkpoint.Checkpointer.save = save
