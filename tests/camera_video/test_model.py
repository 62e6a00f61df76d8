"""The camera-conditioned transformer against stock diffusers, and what trains."""

import copy

import pytest
import torch

from camera_video.models import (
    BASE_5B_I2V,
    CameraControlConfig,
    CameraEncoder,
    build_camera_transformer,
    parameter_report,
)

from .conftest import TINY_CAMERA, perturb_zero_layers, plucker_of, tiny_stock, wrap

BRANCHES = {"dual": TINY_CAMERA,
            "ctrl_only": CameraControlConfig(num_control_blocks=2, lora_rank=0, encoder_channels=8, encoder_layers=1),
            "lora_only": CameraControlConfig(num_control_blocks=0, lora_rank=4, encoder_channels=8, encoder_layers=1)}


@pytest.mark.parametrize("branches", list(BRANCHES))
def test_fresh_camera_model_equals_stock_diffusers(inputs, branches):
    stock = tiny_stock()
    model = wrap(stock, BRANCHES[branches])
    with torch.no_grad():
        expected = stock(**inputs).sample
        got = model(**inputs, plucker=plucker_of("orbit").expand(2, -1, -1, -1, -1)).sample
    assert got.shape == (2, 13, 16, 4, 6)
    assert torch.equal(got, expected)


def test_without_camera_the_trained_wrapper_is_the_stock_model(inputs):
    stock = tiny_stock()
    model = wrap(stock)
    perturb_zero_layers(model)  # as after training: every branch and the LoRA are live
    with torch.no_grad():
        expected = stock(**inputs).sample
        assert torch.equal(model(**inputs).sample, expected)
        assert not torch.allclose(model(**inputs, plucker=plucker_of("orbit").expand(2, -1, -1, -1, -1)).sample,
                                  expected, atol=1e-3)
        assert torch.equal(model(**inputs).sample, expected)  # the LoRA scale was restored, not lost


@pytest.mark.parametrize("branches", list(BRANCHES))
def test_trajectory_changes_output_once_zero_layers_are_trained(inputs, branches):
    model = wrap(tiny_stock(), BRANCHES[branches])
    perturb_zero_layers(model)
    orbit, dolly = plucker_of("orbit").expand(2, -1, -1, -1, -1), plucker_of("dolly_in").expand(2, -1, -1, -1, -1)
    with torch.no_grad():
        a, a2, b = (model(**inputs, plucker=p).sample for p in (orbit, orbit.clone(), dolly))
    assert torch.equal(a, a2)
    assert (a - b).abs().mean() > 1e-3 * a.abs().mean()


def test_only_camera_parts_train_and_all_of_them_get_gradients(inputs):
    model = wrap(tiny_stock())
    model.train()
    perturb_zero_layers(model)  # so that gradients reach the layers behind the zero ones
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    expected = {n for n, _ in model.named_parameters() if not n.startswith("base.") or ".lora_" in n}
    assert trainable == expected
    lora = {n for n in trainable if n.startswith("base.")}
    # LoRA on q, k, v, out of the 2 main blocks only (A and B each), nothing else in the base.
    assert len(lora) == 2 * 4 * 2 and all(".attn1." in n for n in lora)
    model(**inputs, plucker=plucker_of("orbit").expand(2, -1, -1, -1, -1)).sample.square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for n, p in model.named_parameters() if n in trainable)
    assert all(p.grad is None for n, p in model.named_parameters() if n not in trainable)


@pytest.mark.parametrize("branches", list(BRANCHES))
def test_no_branch_is_dead_at_initialisation(inputs, branches):
    """From a fresh model, by the third step every trainable parameter receives gradient: zero layers open one
    after another (zero linear, then the encoder's zero output, then its convolutions). A zero layer feeding
    another whose gradient needs it (a zero encoder output into the fuse's zero half) would stay dead forever."""
    model = wrap(tiny_stock(), BRANCHES[branches]).train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.1)
    pl = plucker_of("orbit").expand(2, -1, -1, -1, -1)
    for _ in range(3):
        opt.zero_grad()
        model(**inputs, plucker=pl).sample.square().mean().backward()
        opt.step()
    dead = [n for n, p in model.named_parameters() if p.requires_grad and not p.grad.abs().sum() > 0]
    assert dead == []


def test_gradient_checkpointing_gives_the_same_gradients(inputs):
    model = wrap(tiny_stock())
    perturb_zero_layers(model)
    other = copy.deepcopy(model)
    other.enable_gradient_checkpointing()
    pl = plucker_of("spiral").expand(2, -1, -1, -1, -1)
    for m in (model, other):
        m(**inputs, plucker=pl).sample.square().mean().backward()
    for (n, p), q in zip(model.named_parameters(), other.parameters()):
        if p.requires_grad:
            torch.testing.assert_close(p.grad, q.grad, msg=n)


def test_camera_encoder_maps_each_frame_group_and_patch_to_its_own_token():
    """With no 3x3x3 layers the encoder is local: frames 4k-3..4k, pixels of patch (i, j) -> token (k, i, j)."""
    enc = CameraEncoder(out_dim=5, patch_size=2, channels=4, num_layers=0)
    torch.nn.init.normal_(enc.proj.weight)
    base = torch.zeros(1, 49, 6, 32, 48)
    k, i, j = 5, 1, 2  # latent frame 5 <- frames 17..20; token row 1, col 2 <- pixels rows 16..31, cols 32..47
    bumped = base.clone()
    bumped[:, 4 * k - 3, :, 16 * i + 3, 16 * j + 9] = 1.0
    with torch.no_grad():
        a, b = enc(base), enc(bumped)
    assert a.shape == (1, 13 * 2 * 3, 5)
    changed = ((a - b).abs().amax(-1) > 0).nonzero()[:, 1].tolist()
    assert changed == [(k * 2 + i) * 3 + j]
    frame0 = base.clone()
    frame0[:, 0, :, 3, 3] = 1.0  # frame 0 alone forms latent frame 0
    with torch.no_grad():
        assert ((enc(frame0) - a).abs().amax(-1) > 0).nonzero()[:, 1].tolist() == [0]


BLOCK = 132_197_632  # one CogVideoX-5B block (SPEC.md section 2)
D = 3072


def test_full_config_parameter_counts_on_meta(capsys):
    model = build_camera_transformer(CameraControlConfig(), BASE_5B_I2V, meta=True)
    assert all(p.device.type == "meta" for p in model.parameters())
    counts = parameter_report(model)
    print("full camera model parameters:", {k: f"{v:,}" for k, v in counts.items()})
    assert counts["base"] == 5_570_479_680
    assert counts["control_blocks"] == 2_776_150_272 == 21 * BLOCK
    assert counts["zero_linears"] == 21 * (D * D + D)
    assert counts["fuse"] == 2 * D * D + D
    assert counts["lora"] == 42 * 4 * 256 * (D + D)
    # encoder: grouping conv 24 -> 128 (8x8), two 3x3x3 convs, LayerNorm(512), linear 512 -> 3072
    assert counts["ctrl_encoder"] == counts["lora_encoder"] == (24 * 64 * 128 + 128) + 2 * (128 * 128 * 27 + 128) \
        + 2 * 512 + (512 * D + D)
    assert counts["trainable"] == counts["total"] - counts["base"]


@pytest.mark.parametrize("blocks", [1, 10, 30])
def test_control_block_ablations_are_config_values(blocks):
    model = build_camera_transformer(CameraControlConfig(num_control_blocks=blocks, lora_rank=0), BASE_5B_I2V,
                                     meta=True)
    counts = parameter_report(model)
    assert counts["control_blocks"] == blocks * BLOCK and counts["lora"] == counts["fuse"] == 0
    assert model.lora_encoder is None
