"""The joint video + pose objective: targets invert to the clip's cameras, and at initialisation each term
equals an independent computation (the video term `i2v_loss` with the same draws, the pose term the
flow-matching MSE of the pose stream run alone)."""

import copy

import pytest
import torch

from camera_video.loss import i2v_loss
from camera_video.models import SCHEDULER_5B_I2V
from camera_video.pose_loss import joint_loss, pose_targets
from wonderland.geometry import cameras_from_plucker, geodesic_angle, normalize_cameras, plucker_embedding
from wonderland.trajectories import make_preset

from .conftest import TINY_CAMERA, TINY_POSE, F, H, T, W, perturb_zero_layers, tiny_stock


def test_pose_targets_invert_to_the_cameras_of_frames_4k():
    cams, _ = normalize_cameras(make_preset("orbit", num_frames=F, height=H, width=W))
    rays = pose_targets(cams.c2w[None], cams.K[None], H, W, T)
    assert rays.shape == (1, T, 6, H // 8, W // 8)
    fit, residual = cameras_from_plucker(rays[0])
    idx = torch.arange(0, F, 4)
    assert residual.max() < 1e-6
    assert geodesic_angle(fit.c2w[:, :3, :3], cams.c2w[idx, :3, :3].double()).max() < 1e-5
    assert (fit.centers - cams.centers[idx].double()).norm(dim=-1).max() < 1e-5
    torch.testing.assert_close(fit.resize(H, W).K, cams.K[idx].double(), atol=1e-4, rtol=0)


def test_at_init_each_term_equals_its_independent_computation():
    from diffusers import CogVideoXDPMScheduler

    from camera_video.models import CameraVideoTransformer

    torch.manual_seed(0)
    model = CameraVideoTransformer(copy.deepcopy(tiny_stock()), TINY_CAMERA)
    perturb_zero_layers(model)
    stream = model.attach_pose_stream(TINY_POSE)
    sched = CogVideoXDPMScheduler(**SCHEDULER_5B_I2V)
    g = torch.Generator().manual_seed(1)
    cams, _ = normalize_cameras(make_preset("orbit", num_frames=F, height=H, width=W))
    batch = {"latents": torch.randn(2, 16, T, H // 8, W // 8, generator=g),
             "image_latents": torch.randn(2, 16, 1, H // 8, W // 8, generator=g),
             "plucker": plucker_embedding(cams.c2w, cams.K, H, W).float()[None].expand(2, -1, -1, -1, -1),
             "prompt_embeds": torch.randn(2, 8, 16, generator=g),
             "pose_rays": pose_targets(cams.c2w[None], cams.K[None], H, W, T).float().expand(2, -1, -1, -1, -1)}
    with torch.no_grad():
        out = joint_loss(model, sched, batch, torch.Generator().manual_seed(5), pose_weight=0.5)
        video = i2v_loss(model, sched, batch, torch.Generator().manual_seed(5))
        # the pose draws come after the video's (timesteps, noise): replay them
        r = torch.Generator().manual_seed(5)
        torch.randint(0, 1000, (2,), generator=r)
        torch.randn(batch["latents"].permute(0, 2, 1, 3, 4).shape, generator=r)
        t = torch.rand(2, generator=r)
        eps = torch.randn(batch["pose_rays"].shape, generator=r)
        x0 = batch["pose_rays"]
        tt = t[:, None, None, None, None]
        alone = stream.forward_alone((1 - tt) * x0 + tt * eps, t, batch["prompt_embeds"])
        pose = (alone - (eps - x0)).square().mean()
    torch.testing.assert_close(out["video"], video, rtol=0, atol=0)
    torch.testing.assert_close(out["pose"], pose, rtol=1e-5, atol=0)
    torch.testing.assert_close(out["loss"], out["video"] + 0.5 * out["pose"])


def test_pose_stream_trains_through_camera_video_train(latent_cache, tmp_path):
    """Two steps of `model.pose_stream=true` on the tiny model: both terms logged, the pose stream saved and
    reloadable, and its communication outputs moved off zero (the joint loss reaches them)."""
    import json

    from camera_video.models import PoseStream
    from camera_video.train import train

    from .conftest import SMOKE_FRAMES, compose

    out = train(compose("model=tiny", "data=synthetic", "trainer=smoke", "data.kind=cache",
                        f"data.root={latent_cache}", f"data.num_frames={SMOKE_FRAMES}", "data.val_scenes=0",
                        f"trainer.output_dir={tmp_path}", "trainer.max_steps=2", "trainer.batch_size=2",
                        "model.pose_stream=true", "model.pose_loss_weight=2.0"))
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    steps = [r for r in logged if "pose" in r and "video" in r]
    assert steps and all(r["loss"] == pytest.approx(r["video"] + 2.0 * r["pose"], rel=1e-4) for r in steps)
    stream = PoseStream.from_pretrained(out.model_dir / "pose_stream")
    assert len(stream.comm) == 1 and all(b.pose_out.weight.abs().sum() > 0 for b in stream.comm)
