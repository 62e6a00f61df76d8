"""Sampling speed options (`camera_video.speed`) on a tiny "trained" camera model: what each skips, counted,
and how far its output moves from the default sampler's.

The model has 4 main blocks and 2 control blocks (so a cache has a middle to skip and control blocks to drop);
latent closeness is PSNR over the reference latents' range. All runs: 8 steps, CFG 6, one seed.
"""

import copy

import pytest
import torch

from camera_video.models import BASE_TINY, SCHEDULER_5B_I2V, CameraControlConfig, CameraVideoTransformer
from camera_video.pipeline import CameraVideoPipeline
from camera_video.speed import SCHEDULERS, SamplingOptions, apply_sampling_options, make_scheduler
from wonderland.errors import InputError
from wonderland.trajectories import make_preset
from wonderland.vae import build_tiny_vae

from .conftest import F, H, W, perturb_zero_layers

MAIN, CONTROL, STEPS = 4, 2, 8


@pytest.fixture(scope="module")
def model():
    from diffusers import CogVideoXTransformer3DModel

    torch.manual_seed(0)
    stock = CogVideoXTransformer3DModel(**{**BASE_TINY, "num_layers": MAIN}).eval()
    camera = CameraControlConfig(num_control_blocks=CONTROL, lora_rank=4, encoder_channels=8, encoder_layers=1)
    model = CameraVideoTransformer(stock, camera).eval()
    perturb_zero_layers(model)
    return model, build_tiny_vae(H, W).eval()


class AttentionCounter:
    """Counts attention computations (one per evaluated block; a broadcast attention is not computed): the
    query projection runs only when the attention processor does."""

    def __init__(self, transformer):
        self.calls = 0
        for m in transformer.modules():
            if type(m).__name__ == "Attention":
                m.to_q.register_forward_pre_hook(self._hit)

    def _hit(self, *args):
        self.calls += 1


def sample(model, options: SamplingOptions | None = None, steps=STEPS):
    from diffusers import CogVideoXDPMScheduler

    transformer, vae = model
    pipe = CameraVideoPipeline(vae, copy.deepcopy(transformer), CogVideoXDPMScheduler(**SCHEDULER_5B_I2V))
    pipe.set_progress_bar_config(disable=True)
    counter = AttentionCounter(pipe.transformer)
    apply_sampling_options(pipe, options or SamplingOptions())
    g = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, H, W, generator=g)
    text, neg = torch.randn(2, 1, 8, 16, generator=g)
    out = pipe(image, make_preset("orbit", num_frames=F, height=H, width=W), prompt_embeds=text,
               negative_prompt_embeds=neg, num_inference_steps=steps, guidance_scale=6.0, seed=0, output_type="latent")
    return out, counter.calls


def latent_psnr(x, ref):
    return (10 * torch.log10((ref.max() - ref.min()) ** 2 / (x - ref).pow(2).mean())).item()


@pytest.fixture(scope="module")
def reference(model):
    out, calls = sample(model)
    assert calls == STEPS * (MAIN + CONTROL) and out.stats["reused_steps"] == 0
    return out


@pytest.mark.parametrize("threshold", [0.0, 0.39, 1e9])
def test_first_block_cache_skips_the_middle_and_the_control_branch(model, reference, threshold):
    out, calls = sample(model, SamplingOptions(cache="fbc", cache_threshold=threshold))
    reused = out.stats["reused_steps"]
    # a computed step evaluates every main and control block, a reused one main block 0 only
    assert calls == STEPS * (MAIN + CONTROL) - reused * (MAIN - 1 + CONTROL)
    if threshold == 0:
        assert reused == 0 and torch.equal(out.latents, reference.latents)
    elif threshold == 1e9:  # everything after the first step reuses it: 6 + 7 evaluations instead of 48
        assert reused == STEPS - 1 and calls == MAIN + CONTROL + STEPS - 1
        assert latent_psnr(out.latents, reference.latents) > 20  # measured 25.9 dB
    else:  # a real threshold: some steps reused, close to the uncached output
        assert 1 <= reused <= STEPS - 2
        assert latent_psnr(out.latents, reference.latents) > 35  # measured 45.7 dB (1 step reused)


def test_pyramid_attention_broadcast_computes_attention_on_the_expected_steps(model, reference):
    out, calls = sample(model, SamplingOptions(cache="pab"))
    timesteps = make_scheduler("cogvideox_dpm", SCHEDULER_5B_I2V)
    timesteps.set_timesteps(STEPS)
    # each attention layer (main and control alike) computes on its first call, outside (100, 800), and on
    # every 2nd call inside it; otherwise it broadcasts its last output
    computed = sum(i == 0 or not 100 < int(t) < 800 or i % 2 == 0 for i, t in enumerate(timesteps.timesteps))
    assert computed < STEPS and calls == computed * (MAIN + CONTROL)
    assert latent_psnr(out.latents, reference.latents) > 45  # measured 62 dB


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_schedulers_keep_the_noise_schedule_v_prediction_and_trailing_steps(name):
    from diffusers import CogVideoXDPMScheduler

    base = CogVideoXDPMScheduler(**SCHEDULER_5B_I2V)
    sched = make_scheduler(name, base.config)
    assert sched.config.prediction_type == "v_prediction" and sched.config.rescale_betas_zero_snr
    # zero terminal SNR: alpha-bar at t = 999 is 0 (the non-CogVideoX schedulers clamp it to 2^-24)
    # (float32 in the non-CogVideoX schedulers: alpha-bar near t = 999 is ~1e-7, so a relative tolerance of 1e-4)
    torch.testing.assert_close(sched.alphas_cumprod[:-1].double(), base.alphas_cumprod[:-1].double(), rtol=1e-4,
                               atol=0)
    assert sched.alphas_cumprod[-1] <= 2.0**-24
    sched.set_timesteps(4)
    base.set_timesteps(4)
    assert sched.timesteps.long().tolist() == base.timesteps.tolist() == [999, 749, 499, 249]


def test_few_step_ode_solvers_approach_the_ode_solution(model):
    """The deterministic schedulers at 8 steps against DDIM at 32 steps (the same probability-flow ODE)."""
    ode, _ = sample(model, SamplingOptions(scheduler="cogvideox_ddim"), steps=32)
    for name, bound in (("dpm++_2m", 37), ("unipc", 37), ("cogvideox_ddim", 30), ("euler", 30)):
        out, calls = sample(model, SamplingOptions(scheduler=name))
        assert out.latents.shape == (1, 16, 13, H // 8, W // 8) and calls == STEPS * (MAIN + CONTROL)
        assert latent_psnr(out.latents, ode.latents) > bound, name  # measured vs DDIM-50: 42 / 45 / 35 / 35 dB


def test_scheduler_without_the_cogvideox_snr_shift_is_refused():
    config = {**SCHEDULER_5B_I2V, "snr_shift_scale": 3.0}  # CogVideoX-5B (T2V) shifts its SNR; others cannot
    with pytest.raises(InputError, match="snr_shift_scale"):
        make_scheduler("dpm++_2m", config)
    assert make_scheduler("cogvideox_ddim", config).config.snr_shift_scale == 3.0


def test_bad_options_are_refused():
    with pytest.raises(InputError, match="scheduler"):
        SamplingOptions(scheduler="lcm")
    with pytest.raises(InputError, match="cache"):
        SamplingOptions(cache="teacache")
    with pytest.raises(InputError, match="pab"):
        SamplingOptions(cache="pab", compile=True)


@pytest.mark.slow
def test_compiled_blocks_give_the_eager_output(model, reference):
    """Regional torch.compile (inductor, CPU): same shapes, same values up to kernel rounding."""
    out, calls = sample(model, SamplingOptions(compile=True))
    assert out.latents.shape == reference.latents.shape
    assert latent_psnr(out.latents, reference.latents) > 80
    assert calls == STEPS * (MAIN + CONTROL)
