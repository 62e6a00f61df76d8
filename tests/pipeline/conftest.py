"""A tiny model family built in code and saved to disk, so the real loading path runs."""

import copy

import pytest
import torch

from camera_video.models import BASE_TINY, SCHEDULER_5B_I2V, CameraControlConfig, CameraVideoTransformer
from wonderland.pipeline.family import save_family
from wonderland.vae import build_tiny_vae

H, W = 32, 48  # the tiny CogVideoX twin's size (latents 4 x 6)
TINY_LALRM = dict(width=32, depth=1, num_heads=2, patch_size=2, head_stride=8, init_scale=0.02)


def build_family(path, seed: int = 0):
    from diffusers import CogVideoXDPMScheduler, CogVideoXTransformer3DModel

    from lalrm.model import LaLRM

    torch.manual_seed(seed)
    stock = CogVideoXTransformer3DModel(**BASE_TINY).eval()
    camera = CameraVideoTransformer(copy.deepcopy(stock), CameraControlConfig(
        num_control_blocks=1, lora_rank=4, encoder_channels=8, encoder_layers=1))
    with torch.no_grad():  # non-zero camera layers, as after training: the camera must matter
        for name, p in camera.named_parameters():
            if p.requires_grad and ("zero_linears" in name or "lora_B" in name):
                p.copy_(torch.randn_like(p) * 0.05)
    vae = build_tiny_vae(H, W)
    lalrm = LaLRM(**TINY_LALRM)
    g = torch.Generator().manual_seed(seed)
    embeds = torch.randn(1, BASE_TINY["max_text_seq_length"], BASE_TINY["text_embed_dim"], generator=g)
    return save_family(path, stock, camera, vae, CogVideoXDPMScheduler(**SCHEDULER_5B_I2V), lalrm, H, W,
                       name="tiny-test", prompt_embeds=embeds, negative_prompt_embeds=torch.zeros_like(embeds),
                       defaults={"num_inference_steps": 2, "guidance_scale": 2.0})


@pytest.fixture(scope="session")
def tiny_family(tmp_path_factory):
    return build_family(tmp_path_factory.mktemp("family") / "tiny")
