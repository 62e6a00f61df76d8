"""Camera guidance (`CameraVideoPipeline(camera_guidance=s)`) on a tiny "trained" camera model.

s = 1 is today's sampler bit for bit (no extra pass); s = 0 without text guidance is the base model (the
fresh, zero-initialised camera model's sampler, exactly); one deterministic DDIM step is affine in the
prediction, so the sampled latents must be affine in s (a guidance that ignored s, or mixed in something
else, breaks it); and a fused camera-LoRA (no camera-free pass) is refused before any work.
"""

import copy

import pytest
import torch

from camera_video.models import SCHEDULER_5B_I2V
from camera_video.pipeline import CameraVideoPipeline
from camera_video.speed import SamplingOptions
from wonderland.errors import InputError
from wonderland.trajectories import make_preset
from wonderland.vae import build_tiny_vae

from .conftest import F, H, W, perturb_zero_layers, tiny_stock, wrap


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    stock = tiny_stock()
    fresh = wrap(stock)
    trained = copy.deepcopy(fresh)
    perturb_zero_layers(trained)
    return fresh, trained, build_tiny_vae(H, W).eval()


def sample(transformer, vae, scheduler="dpm", steps=2, guidance=1.0, **kw):
    from diffusers import CogVideoXDDIMScheduler, CogVideoXDPMScheduler

    sched = (CogVideoXDPMScheduler if scheduler == "dpm" else CogVideoXDDIMScheduler)(**SCHEDULER_5B_I2V)
    pipe = CameraVideoPipeline(vae, transformer, sched)
    pipe.set_progress_bar_config(disable=True)
    g = torch.Generator().manual_seed(5)
    image = torch.rand(1, 3, H, W, generator=g)
    text, neg = torch.randn(2, 1, 8, 16, generator=g)
    return pipe(image, make_preset("orbit", num_frames=F, height=H, width=W), prompt_embeds=text,
                negative_prompt_embeds=neg, num_inference_steps=steps, guidance_scale=guidance, seed=0,
                output_type="latent", **kw)


@pytest.mark.parametrize("guidance", [1.0, 6.0])
def test_scale_one_is_todays_sampler_bit_for_bit(models, guidance):
    _, trained, vae = models
    today = sample(trained, vae, guidance=guidance)
    one = sample(trained, vae, guidance=guidance, camera_guidance=1.0)
    assert torch.equal(one.latents, today.latents)
    assert one.stats["transformer_calls"] == today.stats["transformer_calls"] == 2  # no camera-free pass
    two = sample(trained, vae, guidance=guidance, camera_guidance=2.0)
    assert two.stats["transformer_calls"] == 4
    assert (two.latents - today.latents).abs().max() > 1e-3  # the camera guidance does something


def test_scale_zero_without_text_guidance_is_the_base_model(models):
    fresh, trained, vae = models
    base = sample(fresh, vae)  # zero-initialised camera parts: the base model exactly
    zero = sample(trained, vae, camera_guidance=0.0)
    assert torch.equal(zero.latents, base.latents)
    assert not torch.equal(sample(trained, vae).latents, base.latents)  # the trained camera does matter


@pytest.mark.parametrize("guidance", [1.0, 6.0])
def test_one_ddim_step_is_affine_in_the_scale(models, guidance):
    _, trained, vae = models
    lat = {s: sample(trained, vae, "ddim", steps=1, guidance=guidance, camera_guidance=s).latents.double()
           for s in (0.5, 2.0, 3.5)}
    step = lat[2.0] - lat[0.5]
    assert step.abs().max() > 1e-3
    torch.testing.assert_close(lat[3.5] - lat[2.0], step, atol=1e-4 * step.abs().max().item(), rtol=0)


def test_fused_lora_or_a_bad_scale_is_refused(models):
    _, trained, vae = models
    fused = copy.deepcopy(trained)
    fused.fuse_camera_lora()
    with pytest.raises(InputError, match="camera_guidance"):
        sample(fused, vae, camera_guidance=2.0)
    with pytest.raises(InputError, match="camera_guidance"):
        sample(trained, vae, camera_guidance=-1.0)
    with pytest.raises(InputError, match="camera_guidance"):
        SamplingOptions(camera_guidance=2.0, fuse_lora=True)
    with pytest.raises(InputError, match="camera_guidance"):
        SamplingOptions(camera_guidance=float("nan"))
