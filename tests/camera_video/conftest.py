"""Tiny camera-video fixtures: a stock CogVideoX transformer at `BASE_TINY`, inputs, and trajectories.

Sizes (why not smaller) are explained beside `BASE_TINY`; video 49 x 32 x 48 -> latents 13 x 4 x 6.
"""

import copy

import pytest
import torch

from camera_video.models import BASE_TINY, CameraControlConfig, CameraVideoTransformer, rotary_embedding
from wonderland.geometry import normalize_cameras, plucker_embedding
from wonderland.trajectories import make_preset

# Encoder of width 8 with one 3x3x3 layer: every encoder stage exists; wider buys nothing in a test.
TINY_CAMERA = CameraControlConfig(num_control_blocks=1, lora_rank=4, encoder_channels=8, encoder_layers=1)
H, W, F, T = 32, 48, 49, 13


def tiny_stock(seed: int = 0):
    from diffusers import CogVideoXTransformer3DModel

    torch.manual_seed(seed)
    return CogVideoXTransformer3DModel(**BASE_TINY).eval()


def wrap(stock, camera: CameraControlConfig = TINY_CAMERA) -> CameraVideoTransformer:
    return CameraVideoTransformer(copy.deepcopy(stock), camera).eval()


def plucker_of(preset: str, **params) -> torch.Tensor:
    """(1, 49, 6, 32, 48) Plücker map of a named trajectory, normalised as the pipeline does it."""
    cams, _ = normalize_cameras(make_preset(preset, num_frames=F, height=H, width=W, **params))
    return plucker_embedding(cams.c2w, cams.K, H, W).float()[None]


def perturb_zero_layers(model: CameraVideoTransformer, seed: int = 1) -> None:
    """Stand-in for training: give every zero-initialised layer (and lora_B) random values."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad and ("zero_linears" in name or "proj" in name or "lora_B" in name):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
        if model.fuse is not None:  # the zero half of [identity | zero]
            w = model.fuse.weight
            w[:, w.shape[0]:] = torch.randn(w.shape[0], w.shape[0], generator=g) * 0.1


@pytest.fixture
def inputs():
    g = torch.Generator().manual_seed(0)
    return dict(hidden_states=torch.randn(2, T, 32, H // 8, W // 8, generator=g),
                encoder_hidden_states=torch.randn(2, BASE_TINY["max_text_seq_length"], BASE_TINY["text_embed_dim"],
                                                  generator=g),
                timestep=torch.tensor([17, 801]),
                image_rotary_emb=rotary_embedding(tiny_stock().config, T, H // 8, W // 8))


CONFIG_DIR = str(__import__("pathlib").Path(__file__).parents[2] / "configs" / "camera_video")


def compose(*overrides: str):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return hydra_compose("config", overrides=list(overrides))


# Training smoke runs use 9-frame clips (3 latent frames): the model, the grouping and the loss are
# frame-count generic, and the 49-frame path is covered by the model, pipeline and learning tests.
SMOKE_FRAMES = 9


def write_synth(root, num_scenes: int, fmt: str = "re10k", seed: int = 0):
    from wonderland.data.synth import write_synthetic_dataset

    write_synthetic_dataset(root, num_scenes, num_frames=SMOKE_FRAMES, height=H, width=W, seed=seed, format=fmt,
                            workers=1)
    return root


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
