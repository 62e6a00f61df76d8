"""Tiny camera-video fixtures: a stock CogVideoX transformer at `BASE_TINY`, inputs, and trajectories.

Sizes (why not smaller) are explained beside `BASE_TINY`; video 49 x 32 x 48 -> latents 13 x 4 x 6.
"""

import copy

import pytest
import torch

from camera_video.models import (
    BASE_TINY,
    CameraControlConfig,
    CameraVideoTransformer,
    PoseStreamConfig,
    rotary_embedding,
)
from wonderland.geometry import normalize_cameras, plucker_embedding
from wonderland.testing import CONFIGS, tiny_camera_config, tiny_stock
from wonderland.testing import compose as compose_config
from wonderland.testing import perturb_trainable as perturb_zero_layers
from wonderland.testing import write_synth as write_scenes
from wonderland.trajectories import make_preset

# configs/camera_video/model/tiny.yaml: encoder of width 8 with one 3x3x3 layer, one control block, LoRA rank 4.
TINY_CAMERA = tiny_camera_config()
H, W, F, T = 32, 48, 49, 13
# configs/camera_video/model/tiny.yaml `pose:` except comm_every 1 (tests attach it to 3-block bases).
TINY_POSE = PoseStreamConfig(hidden=32, patch=2, heads=2, blocks=3, comm_every=1, comm_dim=16, comm_heads=2)
__all__ = ["perturb_zero_layers", "tiny_stock"]


def wrap(stock, camera: CameraControlConfig = TINY_CAMERA) -> CameraVideoTransformer:
    return CameraVideoTransformer(copy.deepcopy(stock), camera).eval()


def plucker_of(preset: str, **params) -> torch.Tensor:
    """(1, 49, 6, 32, 48) Plücker map of a named trajectory, normalised as the pipeline does it."""
    cams, _ = normalize_cameras(make_preset(preset, num_frames=F, height=H, width=W, **params))
    return plucker_embedding(cams.c2w, cams.K, H, W).float()[None]


@pytest.fixture
def inputs():
    g = torch.Generator().manual_seed(0)
    return dict(hidden_states=torch.randn(2, T, 32, H // 8, W // 8, generator=g),
                encoder_hidden_states=torch.randn(2, BASE_TINY["max_text_seq_length"], BASE_TINY["text_embed_dim"],
                                                  generator=g),
                timestep=torch.tensor([17, 801]),
                image_rotary_emb=rotary_embedding(tiny_stock().config, T, H // 8, W // 8))


CONFIG_DIR = str(CONFIGS / "camera_video")


def compose(*overrides: str):
    return compose_config(CONFIG_DIR, list(overrides))


# Training smoke runs use 9-frame clips (3 latent frames): the model, the grouping and the loss are
# frame-count generic, and the 49-frame path is covered by the model, pipeline and learning tests.
SMOKE_FRAMES = 9


def write_synth(root, num_scenes: int, fmt: str = "re10k", seed: int = 0):
    return write_scenes(root, num_scenes, num_frames=SMOKE_FRAMES, seed=seed, fmt=fmt)


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory):
    """3 wonderland-synth scenes (9 frames, 32 x 48) in the RE10K layout: 2 to train on, 1 held out."""
    return write_synth(tmp_path_factory.mktemp("synth"), 3)


@pytest.fixture(scope="session")
def latent_cache(synth_root, tmp_path_factory):
    """Those scenes' clips cached with the tiny VAE, as scripts/cache_video_latents.py does."""
    from camera_video.cache import cache_video_latents
    from camera_video.data import DataConfig, build_datasets
    from wonderland.vae import build_tiny_vae

    dataset, _ = build_datasets(DataConfig(kind="re10k", root=str(synth_root), num_frames=SMOKE_FRAMES, height=H,
                                           width=W, strides=[1], val_scenes=0))
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("cache")
    cache_video_latents(dataset, build_tiny_vae(H, W).eval(), out)
    return out
