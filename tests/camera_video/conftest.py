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
