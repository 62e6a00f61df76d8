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
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import torch

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


def tiny_stock(seed: int = 0):
    """The stock tiny CogVideoX transformer (`BASE_TINY`), randomly initialised from `seed`."""
    from diffusers import CogVideoXTransformer3DModel

    from camera_video.models import BASE_TINY

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return CogVideoXTransformer3DModel(**BASE_TINY).eval()


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


def build_tiny_family(path: str | Path, seed: int = 0, name: str = "tiny-test") -> Path:
    """A complete model family of the tiny configs, written with `save_family` so the real loading path runs.
    The camera layers are perturbed (a trained camera must matter); the LaLRM is its fresh initialisation."""
    from diffusers import CogVideoXDPMScheduler

    from camera_video.models import BASE_TINY, SCHEDULER_5B_I2V, CameraVideoTransformer
    from lalrm.model import LaLRM

    from .pipeline.family import save_family
    from .vae import build_tiny_vae

    stock = tiny_stock(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        camera = CameraVideoTransformer(copy.deepcopy(stock), tiny_camera_config())
        perturb_trainable(camera, scale=0.05, seed=seed)
        vae = build_tiny_vae(*TINY_SIZE)
        lalrm = LaLRM(**tiny_lalrm_kwargs())
        g = torch.Generator().manual_seed(seed)
        embeds = torch.randn(1, BASE_TINY["max_text_seq_length"], BASE_TINY["text_embed_dim"], generator=g)
    return save_family(path, stock, camera, vae, CogVideoXDPMScheduler(**SCHEDULER_5B_I2V), lalrm, *TINY_SIZE,
                       name=name, prompt_embeds=embeds, negative_prompt_embeds=torch.zeros_like(embeds),
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
