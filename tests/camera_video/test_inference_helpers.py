"""What a sampler need not redo every step: the camera tokens computed once, and the camera-LoRA fused."""

import copy

import pytest
import torch

from camera_video.models import SCHEDULER_5B_I2V
from camera_video.pipeline import CameraVideoPipeline
from wonderland.trajectories import make_preset
from wonderland.vae import build_tiny_vae

from .conftest import F, H, W, perturb_zero_layers, plucker_of, tiny_stock, wrap


@pytest.fixture(scope="module")
def model():
    m = wrap(tiny_stock())
    perturb_zero_layers(m)  # every camera path live
    return m


def test_precomputed_camera_tokens_give_the_same_output(model, inputs):
    pl = plucker_of("spiral").expand(2, -1, -1, -1, -1)
    with torch.no_grad():
        tokens = model.camera_tokens(pl)
        assert [t.shape for t in tokens] == [(2, 13 * 2 * 3, 64)] * 2  # (B, N, D): ctrl and lora tokens
        assert torch.equal(model(**inputs, camera_tokens=tokens).sample, model(**inputs, plucker=pl).sample)
    with pytest.raises(ValueError, match="not both"):
        model(**inputs, plucker=pl, camera_tokens=tokens)


def test_fused_camera_lora_gives_the_unfused_output(model, inputs):
    fused = copy.deepcopy(model)
    fused.fuse_camera_lora()
    assert fused.lora_fused and not model.lora_fused
    pl = plucker_of("orbit").expand(2, -1, -1, -1, -1)
    with torch.no_grad():
        ref, got = model(**inputs, plucker=pl).sample, fused(**inputs, plucker=pl).sample
        # float32: W + scale B A rounds once per weight; measured max |diff| 4.8e-7 on outputs up to 2.2
        torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)
        with pytest.raises(ValueError, match="fused"):
            fused(**inputs)  # a fused model has no camera-free (stock) mode
        fused.unfuse_camera_lora()
        assert not fused.lora_fused
        torch.testing.assert_close(fused(**inputs).sample, model(**inputs).sample, rtol=1e-5, atol=1e-5)


def test_the_sampler_runs_the_camera_encoders_once_per_run(model):
    from diffusers import CogVideoXDPMScheduler

    pipe = CameraVideoPipeline(build_tiny_vae(H, W).eval(), copy.deepcopy(model),
                               CogVideoXDPMScheduler(**SCHEDULER_5B_I2V))
    pipe.set_progress_bar_config(disable=True)
    calls = []
    for enc in (pipe.transformer.ctrl_encoder, pipe.transformer.lora_encoder):
        enc.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    g = torch.Generator().manual_seed(0)
    text, neg = torch.randn(2, 1, 8, 16, generator=g)
    pipe(torch.rand(1, 3, H, W, generator=g), make_preset("orbit", num_frames=F, height=H, width=W),
         prompt_embeds=text, negative_prompt_embeds=neg, num_inference_steps=3, guidance_scale=6.0, seed=0,
         output_type="latent")
    assert calls == [1, 1]  # each encoder once, at batch 1, for 3 steps x 2 guidance halves
