"""A 2-step sampling run of the tiny pipeline: shapes, determinism, cameras reaching the sampler."""

import pytest
import torch

from camera_video.models import SCHEDULER_5B_I2V
from camera_video.pipeline import CameraVideoPipeline
from wonderland.errors import InputError
from wonderland.trajectories import make_preset
from wonderland.vae import build_tiny_vae

from .conftest import F, H, W, perturb_zero_layers, tiny_stock, wrap


@pytest.fixture(scope="module")
def pipe():
    from diffusers import CogVideoXDPMScheduler

    torch.manual_seed(0)
    transformer = wrap(tiny_stock())
    perturb_zero_layers(transformer)  # a "trained" camera model, so trajectories matter
    pipe = CameraVideoPipeline(vae=build_tiny_vae(H, W).eval(), transformer=transformer,
                               scheduler=CogVideoXDPMScheduler(**SCHEDULER_5B_I2V))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _run(pipe, preset="orbit", seed=0, **kw):
    g = torch.Generator().manual_seed(123)
    image = torch.rand(1, 3, H, W, generator=g)
    text, neg = torch.randn(2, 1, 8, 16, generator=g)
    cams = make_preset(preset, num_frames=F, height=H, width=W)
    return pipe(image, cams, prompt_embeds=text, negative_prompt_embeds=neg, num_inference_steps=2,
                guidance_scale=6.0, seed=seed, **kw)


def test_two_step_sampling_shapes_and_normalised_cameras(pipe):
    out = _run(pipe)
    assert out.frames.shape == (1, F, 3, H, W)
    assert out.frames.min() >= 0 and out.frames.max() <= 1
    assert out.latents.shape == (1, 16, 13, H // 8, W // 8)
    assert out.cameras.shape == (1, F)
    torch.testing.assert_close(out.cameras.c2w[0, 0], torch.eye(4, dtype=out.cameras.c2w.dtype))
    assert out.cameras.centers.norm(dim=-1).amax().item() == pytest.approx(1.0)
    # the normalisation maps the cameras back to the trajectory that was asked for
    cams = make_preset("orbit", num_frames=F, height=H, width=W)
    torch.testing.assert_close(out.normalization.invert(out.cameras.c2w)[0], cams.c2w)


def test_sampling_is_deterministic_with_a_seed_and_follows_the_trajectory(pipe):
    a = _run(pipe, output_type="latent")
    assert a.frames is None
    assert torch.equal(a.latents, _run(pipe, output_type="latent").latents)
    assert not torch.equal(a.latents, _run(pipe, seed=1, output_type="latent").latents)
    assert not torch.allclose(a.latents, _run(pipe, preset="dolly_in", output_type="latent").latents, atol=1e-4)


def test_wrong_trajectory_length_is_refused_before_sampling(pipe):
    cams = make_preset("orbit", num_frames=25, height=H, width=W)
    with pytest.raises(InputError, match="49 frames"):
        pipe(torch.rand(1, 3, H, W), cams, prompt_embeds=torch.randn(1, 8, 16), guidance_scale=1.0)


def test_validation_logs_held_out_loss_and_writes_a_video_per_clip(pipe, tmp_path):
    from camera_video.config import to_schema
    from camera_video.data import PromptEmbeddings
    from camera_video.validate import validate
    from wonderland.data.synth import make_synthetic_scene
    from wonderland.geometry import normalize_poses
    from wonderland.video import read_video

    from .conftest import compose

    frames, cams = make_synthetic_scene(3, F, H, W)
    c2w, _ = normalize_poses(cams.c2w)
    clips = [{"frames": frames, "c2w": c2w.float(), "K": cams.K.float(), "key": "clip"}]
    cfg = to_schema(compose("model=tiny", "trainer=smoke", f"trainer.output_dir={tmp_path}", "validation.clips=1"))
    logged = {}
    tracker = type("Tracker", (), {"log": lambda self, values, step: logged.update(values, step=step)})()
    validate(pipe.transformer, pipe.vae, pipe.scheduler, clips, PromptEmbeddings(None, 8, 16), cfg, 7, tracker)
    assert logged["step"] == 7 and logged["val/loss"] > 0
    video = read_video(tmp_path / "validation" / "step-00000007" / "clip.mp4")
    assert video.shape[0] == F and video.shape[-2:] == (H, W)
