"""The pose stream (VideoRFSplat) side-attached to the camera-video transformer.

At initialisation the communication blocks' output layers are zero, so the video prediction is bit-identical
with and without the pose stream; once they are non-zero each stream must feel the other (a block that is
not wired in, or wired one way only, fails). The schedule places no communication block after the last
block of either stream, and the full configuration's sizes are SPEC.md's.
"""

import copy

import pytest
import torch

from camera_video.models import (
    BASE_5B_I2V,
    BASE_TINY,
    CameraVideoTransformer,
    PoseStream,
    PoseStreamConfig,
    comm_schedule,
    rotary_embedding,
)

from .conftest import TINY_CAMERA, TINY_POSE, H, T, W, perturb_zero_layers, plucker_of, tiny_stock


@pytest.fixture(scope="module")
def model():
    from diffusers import CogVideoXTransformer3DModel

    torch.manual_seed(0)
    stock = CogVideoXTransformer3DModel(**{**BASE_TINY, "num_layers": 3}).eval()
    model = CameraVideoTransformer(stock, TINY_CAMERA).eval()
    perturb_zero_layers(model)  # a trained camera model
    return model


def inputs(batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(hidden_states=torch.randn(batch, T, 32, H // 8, W // 8, generator=g),
                encoder_hidden_states=torch.randn(batch, BASE_TINY["max_text_seq_length"], BASE_TINY["text_embed_dim"],
                                                  generator=g),
                timestep=torch.tensor([17, 801][:batch]),
                image_rotary_emb=rotary_embedding(tiny_stock().config, T, H // 8, W // 8))


def rays(batch=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, T, 6, H // 8, W // 8, generator=g), torch.tensor([0.9, 0.3][:batch])


def test_schedule_full_config_and_none_after_the_last_block():
    full = comm_schedule(BASE_5B_I2V["num_layers"], 16, 3)  # 42 video blocks, 16 pose blocks
    assert full == [(3 * k + 2, k) for k in range(13)]
    assert full[-1][0] < 41 and full[-1][1] < 15
    assert comm_schedule(3, 3, 1) == [(0, 0), (1, 1)]
    assert comm_schedule(4, 2, 3) == [(2, 0)] and comm_schedule(3, 16, 3) == []
    with pytest.raises(ValueError):
        PoseStreamConfig(hidden=40, heads=3)


@torch.no_grad()
def test_attached_at_init_the_video_output_is_bit_identical(model):
    x, plucker = inputs(), plucker_of("orbit").expand(2, -1, -1, -1, -1)
    before = model(**x, plucker=plucker, return_dict=False)[0]
    with_pose = copy.deepcopy(model)
    with_pose.attach_pose_stream(TINY_POSE)
    r, t = rays()
    video, pose = with_pose(**x, plucker=plucker, pose_rays=r, pose_time=t)
    assert torch.equal(video, before)
    assert pose.shape == r.shape and pose.abs().mean() > 0
    # pose-free (no camera branches): also the base output unchanged
    assert torch.equal(with_pose(**x, pose_rays=r, pose_time=t)[0], model(**x, return_dict=False)[0])


@torch.no_grad()
def test_trained_communication_couples_the_streams_both_ways(model):
    m = copy.deepcopy(model)
    stream = m.attach_pose_stream(TINY_POSE)
    g = torch.Generator().manual_seed(2)
    for block in stream.comm:
        for lin in (block.video_out, block.pose_out):
            lin.weight.copy_(torch.randn(lin.weight.shape, generator=g) * 0.1)
    x, (r, t) = inputs(), rays()
    video, pose = m(**x, pose_rays=r, pose_time=t)
    assert not torch.equal(video, model(**x, return_dict=False)[0])  # the pose reaches the video
    r2 = r.clone()
    r2[0] += 1.0  # other rays for sample 0: its video changes, sample 1's does not (no batch mixing)
    video2, _ = m(**x, pose_rays=r2, pose_time=t)
    assert (video2[0] - video[0]).abs().max() > 1e-4 and torch.equal(video2[1], video[1])
    x2 = dict(x, hidden_states=x["hidden_states"] + 1.0)  # other video: the pose prediction changes
    assert (m(**x2, pose_rays=r, pose_time=t)[1] - pose).abs().max() > 1e-4
    alone = stream.forward_alone(r, t, x["encoder_hidden_states"])
    assert (alone - pose).abs().max() > 1e-4


def test_zero_output_layers_get_gradients_and_are_trainable(model):
    m = copy.deepcopy(model)
    stream = m.attach_pose_stream(TINY_POSE)
    x, (r, t) = inputs(), rays()
    video, pose = m(**x, pose_rays=r, pose_time=t)
    (video.square().mean() + pose.square().mean()).backward()
    assert all(p.requires_grad for p in stream.parameters())
    assert all(b.video_out.weight.grad.abs().sum() > 0 and b.pose_out.weight.grad.abs().sum() > 0
               for b in stream.comm)


def test_full_pose_stream_parameter_count_on_meta():
    from accelerate import init_empty_weights
    from diffusers import CogVideoXTransformer3DModel

    with init_empty_weights():
        cfg = CogVideoXTransformer3DModel(**BASE_5B_I2V).config
        stream = PoseStream.for_video(cfg, PoseStreamConfig())
    blocks = sum(p.numel() for p in stream.pose_blocks.parameters())
    comm = sum(p.numel() for p in stream.comm.parameters())
    assert len(stream.pose_blocks) == 16 and len(stream.comm) == 13
    assert stream.pose_blocks[0].attn1.heads == 4 and stream.config.hidden == 256 and stream.config.patch == 2
    assert blocks / 16 == sum(p.numel() for p in stream.pose_blocks[0].parameters())
    print(f"pose DiT {blocks:,}, communication blocks {comm:,}")
    assert 20e6 < blocks < 30e6  # ~1.6 M per 256-wide CogVideoX block (attention 0.26 M, MLP 0.53 M, adaLN 0.79 M)
    assert comm > 0


def test_dry_run_names_the_pose_stream_and_bad_pose_keys_are_refused(capsys):
    from camera_video.train import train
    from wonderland.errors import InputError

    from .conftest import compose

    out = train(compose("model.pose_stream=true", "trainer.dry_run=true"))
    pose, counts = out["pose_stream"], out["parameters"]
    assert pose["comm_count"] == 13 and pose["total"] == counts["pose_stream"] == pose["pose_dit"] + pose["comm_blocks"]
    assert f"pose stream: {pose['total']:,} (pose DiT" in capsys.readouterr().out
    off = train(compose("trainer.dry_run=true"))
    assert off["parameters"]["pose_stream"] == 0 and off["pose_stream"] == pose  # reported, not attached
    assert off["parameters"]["total"] + pose["total"] == counts["total"]
    with pytest.raises(InputError, match="model.pose_stream"):
        train(compose("model=tiny", "model.pose_stream=true", "stage=base"))
    with pytest.raises(InputError, match="model.pose"):
        train(compose("trainer.dry_run=true", "model.pose.hidden=40"))
