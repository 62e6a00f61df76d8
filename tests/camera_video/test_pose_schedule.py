"""The asynchronous pose schedule: t_R <= t_I everywhere, the poses are clean first, delta 0 is synchronous."""

import pytest
import torch

from camera_video.pose_schedule import pose_grid, pose_time, scheduler_times


def image_times(n: int = 10) -> torch.Tensor:
    from diffusers import CogVideoXDPMScheduler

    from camera_video.models import SCHEDULER_5B_I2V

    sched = CogVideoXDPMScheduler(**SCHEDULER_5B_I2V)
    sched.set_timesteps(n)
    return scheduler_times(sched.timesteps, sched.config.num_train_timesteps)


def test_pose_time_is_the_clamped_shift():
    t = torch.tensor([1.0, 0.5, 0.25, 0.2, 0.1, 0.0])
    torch.testing.assert_close(pose_time(t, 0.2), torch.tensor([0.8, 0.3, 0.05, 0.0, 0.0, 0.0]))
    with pytest.raises(ValueError):
        pose_time(t, -0.1)


@pytest.mark.parametrize("n,delta", [(10, 0.2), (50, 0.2), (7, 0.5)])
def test_async_pose_is_never_noisier_and_is_clean_first(n, delta):
    t_img, t_pose = pose_grid(image_times(n), delta)
    assert t_img.shape == t_pose.shape == (n + 1,)
    assert (t_pose <= t_img).all()
    assert (t_pose[1:] <= t_pose[:-1]).all() and (t_img[1:] <= t_img[:-1]).all()  # both only denoise
    assert t_pose[0] == t_img[0] and t_img[-1] == 0 and t_pose[-1] == 0  # both start from noise, end clean
    first_clean = lambda t: int((t == 0).nonzero()[0])  # noqa: E731
    assert first_clean(t_pose) < first_clean(t_img) == n  # the poses reach 0 steps before the video
    # Once the pose is not clamped, it lags the image by exactly delta
    mid = (t_pose > 0) & (torch.arange(n + 1) > 0)
    torch.testing.assert_close(t_img[mid] - t_pose[mid], torch.full((int(mid.sum()),), delta, dtype=torch.float64))


def test_delta_zero_and_sync_mode_are_synchronous_and_conditioned_is_clean():
    t = image_times(10)
    t_img, t_sync = pose_grid(t, 0.0)
    assert torch.equal(t_img, t_sync)
    assert torch.equal(pose_grid(t, 0.3, mode="sync")[1], t_img)
    assert not torch.equal(pose_grid(t, 0.3)[1], t_img)
    assert (pose_grid(t, 0.2, mode="conditioned")[1] == 0).all()
