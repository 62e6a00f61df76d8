"""camera_video.pretrain: the stock-base I2V pre-training loop that small families (the demo, tests) start from."""

import pytest
import torch
from diffusers import CogVideoXDPMScheduler, CogVideoXTransformer3DModel

from camera_video.loss import i2v_loss
from camera_video.models import BASE_TINY, SCHEDULER_5B_I2V, CameraControlConfig, build_camera_transformer
from camera_video.pretrain import StockI2V, pretrain_base


def fixed_batch() -> dict:
    g = torch.Generator().manual_seed(3)
    image = torch.randn(2, 16, 1, 4, 6, generator=g)  # a still video of the image: learnable by copying it
    latents = image.expand(-1, -1, 13, -1, -1) + 0.1 * torch.randn(2, 16, 13, 4, 6, generator=g)
    return {"latents": latents, "image_latents": image, "prompt_embeds": torch.zeros(2, 8, 16)}


def held_loss(base, scheduler, batch) -> float:
    with torch.no_grad():
        return i2v_loss(StockI2V(base), scheduler, batch, torch.Generator().manual_seed(0),
                        timesteps=torch.tensor([100, 700])).item()


def test_pretraining_fits_a_fixed_batch_and_saves_a_loadable_base(tmp_path):
    torch.manual_seed(0)
    base, batch = CogVideoXTransformer3DModel(**BASE_TINY), fixed_batch()
    scheduler = CogVideoXDPMScheduler(**SCHEDULER_5B_I2V)
    before = held_loss(base, scheduler, batch)
    losses = pretrain_base(base, scheduler, lambda step: batch, steps=40, lr=3e-3, log_every=0)
    after = held_loss(base, scheduler, batch)
    assert len(losses) == 40 and after < 0.7 * before
    assert all(p.requires_grad for p in base.parameters())  # trained in full, unlike the camera stage
    base.save_pretrained(tmp_path / "transformer")
    loaded = build_camera_transformer(CameraControlConfig(num_control_blocks=1, lora_rank=4, encoder_channels=8,
                                                          encoder_layers=1), pretrained=tmp_path)
    assert held_loss(loaded.base, scheduler, batch) == pytest.approx(after, rel=1e-5)


def test_stock_base_refuses_a_camera():
    model, batch = StockI2V(CogVideoXTransformer3DModel(**BASE_TINY)), fixed_batch()
    batch["plucker"] = torch.zeros(2, 49, 6, 32, 48)
    with pytest.raises(ValueError, match="no camera"):
        i2v_loss(model, CogVideoXDPMScheduler(**SCHEDULER_5B_I2V), batch)
