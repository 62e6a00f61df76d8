"""Joint video + pose sampling in `CameraVideoPipeline` (`pose=`, `camera_video.pose_sampling`).

- mode conditioned with a pose stream attached at initialisation gives exactly the plain pipeline's latents;
- the t_R fed to the pose stream at each step is `pose_schedule.pose_grid`'s (async and sync);
- with an oracle pose velocity ((x_t - x_0) / t for a known trajectory's ray maps) the Euler steps land on x_0 and
  the recovered path is that trajectory (so time direction, steps, ray fit, resize and 4k frame mapping agree);
- pose guidance 0 is the video model without the pose stream (the fresh camera model's sampler, exactly);
- bad combinations are refused before any work.
"""

import copy

import pytest
import torch

from camera_video.models import SCHEDULER_5B_I2V
from camera_video.pipeline import CameraVideoPipeline
from camera_video.pose_loss import pose_targets
from camera_video.pose_schedule import pose_grid, scheduler_times
from wonderland.errors import InputError
from wonderland.geometry import geodesic_angle, normalize_cameras
from wonderland.trajectories import make_preset
from wonderland.vae import build_tiny_vae

from .conftest import TINY_POSE, F, H, T, W, perturb_zero_layers, tiny_stock, wrap


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    fresh = wrap(tiny_stock())
    trained = copy.deepcopy(fresh)
    perturb_zero_layers(trained)
    at_init = copy.deepcopy(trained)
    at_init.attach_pose_stream(TINY_POSE)
    coupled = copy.deepcopy(at_init)
    with torch.no_grad():  # stand-in for training: the communication blocks' zero outputs become non-zero
        g = torch.Generator().manual_seed(3)
        for name, p in coupled.pose_stream.named_parameters():
            if "_out." in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return {"fresh": fresh, "trained": trained, "at_init": at_init, "coupled": coupled,
            "vae": build_tiny_vae(H, W).eval()}


def sample(transformer, vae, cameras="orbit", scheduler="dpm", steps=3, guidance=1.0, **kw):
    from diffusers import CogVideoXDDIMScheduler, CogVideoXDPMScheduler

    sched = (CogVideoXDPMScheduler if scheduler == "dpm" else CogVideoXDDIMScheduler)(**SCHEDULER_5B_I2V)
    pipe = CameraVideoPipeline(vae, transformer, sched)
    pipe.set_progress_bar_config(disable=True)
    g = torch.Generator().manual_seed(5)
    image = torch.rand(1, 3, H, W, generator=g)
    text, neg = torch.randn(2, 1, 8, 16, generator=g)
    cams = make_preset(cameras, num_frames=F, height=H, width=W) if isinstance(cameras, str) else cameras
    return pipe(image, cams, prompt_embeds=text, negative_prompt_embeds=neg, num_inference_steps=steps,
                guidance_scale=guidance, seed=0, output_type="latent", **kw)


@pytest.mark.parametrize("guidance", [1.0, 6.0])
def test_conditioned_at_init_equals_the_plain_pipeline(models, guidance):
    plain = sample(models["trained"], models["vae"], guidance=guidance)
    cond = sample(models["at_init"], models["vae"], guidance=guidance, pose="conditioned")
    assert torch.equal(cond.latents, plain.latents)
    assert cond.stats["pose_times"] == [0.0] * 3
    # once the communication blocks carry something, the pose stream does steer the video
    coupled = sample(models["coupled"], models["vae"], guidance=guidance, pose="conditioned")
    assert (coupled.latents - plain.latents).abs().max() > 1e-4


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_the_schedule_used_is_pose_grid(models, mode):
    from diffusers import CogVideoXDPMScheduler

    out = sample(models["coupled"], models["vae"], cameras=None, steps=5, pose=mode, pose_delta=0.3)
    sched = CogVideoXDPMScheduler(**SCHEDULER_5B_I2V)
    sched.set_timesteps(5)
    _, t_pose = pose_grid(scheduler_times(sched.timesteps, 1000), 0.3, mode)
    assert out.stats["pose_times"] == t_pose[:-1].tolist()
    if mode == "async":
        assert out.stats["pose_times"][-1] == 0.0 and out.stats["pose_times"][1] < float(sched.timesteps[1]) / 1000
    assert out.cameras.shape == (1, F) and out.pose_residual.shape == (1, T) and out.pose_rays.shape == (1, T, 6, 4, 6)


def test_oracle_velocity_recovers_the_trajectory(models):
    """The pose stream replaced by the exact flow velocity towards a known path's ray maps."""
    model = copy.deepcopy(models["coupled"])
    target_cams, _ = normalize_cameras(make_preset("orbit", num_frames=F, height=H, width=W))
    x0 = pose_targets(target_cams.c2w[None].float(), target_cams.K[None].float(), H, W, T)
    forward = model.forward

    def oracle(*args, pose_rays=None, pose_time=None, **kw):
        out = forward(*args, pose_rays=pose_rays, pose_time=pose_time, **kw)
        t = pose_time.float().clamp_min(1e-6)[:, None, None, None, None]
        return out[0], (pose_rays.float() - x0) / t

    model.forward = oracle
    out = sample(model, models["vae"], cameras=None, steps=4, pose="async")
    torch.testing.assert_close(out.pose_rays, x0.expand_as(out.pose_rays), atol=1e-4, rtol=0)
    assert out.pose_residual.max() < 1e-3
    got, want = out.cameras[0], target_cams.to(torch.float64)
    keys = torch.arange(0, F, 4)
    assert geodesic_angle(got.c2w[keys, :3, :3], want.c2w[keys, :3, :3]).max() < 1e-3
    assert (got.centers[keys] - want.centers[keys]).norm(dim=-1).max() < 1e-3
    torch.testing.assert_close(got.K, want.K, atol=1e-2, rtol=0)
    # between keyframes: interpolated, close to the smooth orbit
    assert (got.centers - want.centers).norm(dim=-1).max() < 0.05


def test_pose_guidance_zero_is_the_video_model_without_the_pose(models):
    """DDIM (no scheduler noise, so the pose noise draw cannot shift the video's): s_p = 0 is the base model."""
    base = sample(models["fresh"], models["vae"], scheduler="ddim")  # zero-init camera parts: the base exactly
    zero = sample(models["coupled"], models["vae"], cameras=None, scheduler="ddim", pose="async", pose_guidance=0.0)
    assert torch.equal(zero.latents, base.latents)
    assert zero.stats["transformer_calls"] == 6
    one = sample(models["coupled"], models["vae"], cameras=None, scheduler="ddim", pose="async")
    assert one.stats["transformer_calls"] == 3 and (one.latents - base.latents).abs().max() > 1e-4


def test_bad_combinations_are_refused(models):
    vae = models["vae"]
    cases = [(models["trained"], {"cameras": None, "pose": "async"}, "pose stream"),
             (models["coupled"], {"pose": "async"}, "give no cameras"),
             (models["coupled"], {"cameras": None, "pose": "conditioned"}, "conditioned"),
             (models["coupled"], {"cameras": None, "pose": "later"}, "async, sync, conditioned"),
             (models["coupled"], {"cameras": None, "pose": "async", "pose_delta": 1.5}, "pose_delta"),
             (models["coupled"], {"cameras": None, "pose": "async", "camera_guidance": 2.0}, "camera_guidance"),
             (models["coupled"], {"pose_guidance": 2.0}, "pose_guidance"),
             (models["coupled"], {"cameras": None}, "trajectory")]
    for model, kw, words in cases:
        with pytest.raises(InputError, match=words):
            sample(model, vae, **kw)
