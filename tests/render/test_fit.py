"""The renderer is usable for training: fit random Gaussians to renders of a known scene."""

import pytest
import torch

from wonderland.gaussians import Gaussians
from wonderland.metrics.image import psnr
from wonderland.render import render

from .scenes import random_scene, ring_cameras

HELD_OUT_PSNR = 30.0  # dB on 4 unseen cameras; this seed reaches ~35.6 dB after 200 steps, ~13 dB at the start


@pytest.fixture
def one_thread():
    # 32x32 renders are a few hundred tiny ops: a second intra-op thread only adds synchronisation (and
    # stalls badly on a busy machine).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_200_adam_steps_from_random_gaussians_reach_held_out_psnr(one_thread):
    size, bg = 32, torch.ones(3)
    target = random_scene(40, seed=5, dtype=torch.float32, spread=0.6, scale=(0.08, 0.25))
    target.opacities = target.opacities.clamp(min=0.6)
    train, held_out = ring_cameras(12, size, size, radius=3.0), ring_cameras(4, size, size, radius=3.0, offset=0.3)
    with torch.no_grad():
        gt_train, gt_held_out = render(target, train, bg).rgb, render(target, held_out, bg).rgb

    gen = torch.Generator().manual_seed(1)
    g = 150
    means = (torch.randn(g, 3, generator=gen) * 0.6).requires_grad_()
    quats = torch.randn(g, 4, generator=gen).requires_grad_()
    log_scales = torch.full((g, 3), -2.5).requires_grad_()
    opacity_logits, color_logits = torch.zeros(g).requires_grad_(), torch.zeros(g, 3).requires_grad_()
    opt = torch.optim.Adam([{"params": [means, quats], "lr": 0.01}, {"params": [log_scales], "lr": 0.02},
                            {"params": [opacity_logits, color_logits], "lr": 0.05}])

    def model() -> Gaussians:
        return Gaussians(means, quats, log_scales.exp(), torch.sigmoid(opacity_logits), torch.sigmoid(color_logits))

    with torch.no_grad():
        start = psnr(render(model(), held_out, bg).rgb, gt_held_out).mean()
    for _ in range(200):
        views = torch.randperm(len(train), generator=gen)[:3]
        loss = (render(model(), train[views], bg).rgb - gt_train[views]).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        end = psnr(render(model(), held_out, bg).rgb, gt_held_out).mean()
    assert start < 16.0
    assert end > HELD_OUT_PSNR, f"held-out PSNR {end:.2f} dB (started at {start:.2f} dB)"
