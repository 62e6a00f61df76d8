"""The project's sampler against diffusers' own `CogVideoXImageToVideoPipeline` on tiny random weights.

A fresh camera model computes exactly what its base computes (zero-initialised branches), so with the same
seed the two samplers must return identical latents, phase for phase: image encoding, noise, RoPE, the
guidance (fixed or dynamic) and the scheduler steps. Any drift in our copy of the sampler breaks equality.
"""

import pytest
import torch

from camera_video.models import SCHEDULER_5B_I2V
from camera_video.pipeline import CameraVideoPipeline, dynamic_guidance
from wonderland.trajectories import make_preset
from wonderland.vae import build_tiny_vae

from .conftest import F, H, W, tiny_stock, wrap


@pytest.fixture(scope="module")
def parts():
    from diffusers import CogVideoXDPMScheduler

    torch.manual_seed(0)
    stock = tiny_stock()
    return stock, build_tiny_vae(H, W).eval(), CogVideoXDPMScheduler(**SCHEDULER_5B_I2V)


def _both(parts, steps: int, guidance: float, dynamic: bool):
    from diffusers import CogVideoXImageToVideoPipeline

    stock, vae, scheduler = parts
    g = torch.Generator().manual_seed(7)
    image = torch.rand(1, 3, H, W, generator=g)
    text, neg = torch.randn(2, 1, 8, 16, generator=g)
    kw = dict(prompt_embeds=text, negative_prompt_embeds=neg, num_inference_steps=steps, guidance_scale=guidance,
              use_dynamic_cfg=dynamic, output_type="latent")
    ref = CogVideoXImageToVideoPipeline(None, None, vae, stock, scheduler)
    ref.set_progress_bar_config(disable=True)
    expected = ref(image, height=H, width=W, num_frames=F, generator=torch.Generator().manual_seed(3), **kw).frames
    ours = CameraVideoPipeline(vae, wrap(stock), scheduler)
    ours.set_progress_bar_config(disable=True)
    out = ours(image, make_preset("orbit", num_frames=F, height=H, width=W), seed=3, **kw)
    return out, expected.permute(0, 2, 1, 3, 4)  # stock latents are (B, T, C, h, w)


@pytest.mark.parametrize("steps,guidance,dynamic", [(4, 6.0, False), (4, 1.0, False), (4, 6.0, True),
                                                    (12, 6.0, True)])
def test_latents_equal_the_stock_pipeline(parts, steps, guidance, dynamic):
    out, expected = _both(parts, steps, guidance, dynamic)
    assert out.latents.shape == expected.shape == (1, 16, 13, H // 8, W // 8)
    assert torch.equal(out.latents, expected)
    scales = out.stats["guidance_scales"]
    if guidance > 1 and dynamic:
        assert len(set(scales)) > 1 and all(1 <= s <= 1 + guidance for s in scales)  # it did vary
    elif guidance > 1:
        assert scales == [guidance] * steps


def test_dynamic_guidance_is_diffusers_formula():
    # 1 + w (1 - cos(pi ((n - t) / n)^5)) / 2, with t the timestep: at t = n the scale is exactly 1.
    assert dynamic_guidance(6.0, torch.tensor(50), 50) == 1.0
    assert dynamic_guidance(6.0, torch.tensor(49), 50) == pytest.approx(1 + 6 * (1 - torch.cos(
        torch.tensor(torch.pi * (1 / 50) ** 5, dtype=torch.float64)).item()) / 2)
