"""Reconstruction loss: refuses a random VGG, loads a local one strictly, terms with known values."""

import math

import pytest
import torch
from safetensors.torch import save_file

from lalrm.loss import LossConfig, build_loss, log_distance_tv, map_tv
from wonderland.errors import InputError
from wonderland.metrics.nets import FeatureNet


def test_refuses_random_vgg_without_explicit_permission():
    with pytest.raises(InputError, match="vgg_weights"):
        build_loss(LossConfig(perceptual=0.5))
    assert build_loss(LossConfig(perceptual=0.0)).vgg is None  # no perceptual term: no VGG needed


def test_loads_vgg_weights_from_a_local_file(tmp_path):
    torch.manual_seed(0)
    net = FeatureNet("vgg19")
    path = tmp_path / "vgg19.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    loss = build_loss(LossConfig(perceptual=0.5, vgg_weights=str(path)))
    for k, v in net.state_dict().items():
        assert torch.equal(loss.vgg.state_dict()[k], v)
    assert not any(p.requires_grad for p in loss.vgg.parameters())


def test_terms_and_weights():
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="RANDOM"):
        fn = build_loss(LossConfig(mse=1.0, perceptual=0.5, opacity=0.1, depth=0.01, allow_random_weights=True))
    target = torch.rand(1, 2, 3, 32, 32)
    pred = (target + 0.1).clamp(0, 1)
    opac = torch.full((1, 100), 0.25)
    dist = torch.full((1, 2, 4, 4), 3.0)
    same = fn(target, target, opac, dist)
    assert same["mse"] == 0 and same["perceptual"] == 0 and same["depth"] == 0
    assert same["opacity"].item() == pytest.approx(0.25)
    terms = fn(pred, target, opac, dist)
    assert terms["mse"].item() == pytest.approx((pred - target).pow(2).mean().item())
    assert terms["perceptual"] > 0
    assert terms["psnr"].item() == pytest.approx(-10 * math.log10(terms["mse"].item()), rel=0.05)
    expected = terms["mse"] + 0.5 * terms["perceptual"] + 0.1 * 0.25
    assert terms["loss"].item() == pytest.approx(expected.item(), rel=1e-5)


def test_log_distance_tv_is_scale_free():
    d = torch.tensor([[1.0, 2.0], [1.0, 2.0]])
    # rows identical (0), one horizontal step of log 2 per row
    assert log_distance_tv(d).item() == pytest.approx(math.log(2))
    assert log_distance_tv(7 * d).item() == pytest.approx(log_distance_tv(d).item(), rel=1e-6)


def test_color_tv_is_per_frame_map_smoothness():
    """Colours (B, F*Hg*Wg, 3) are read as F maps of Hg x Wg: frames that are each flat cost nothing, however
    different from one another (a reshape in another order would mix them); one vertical edge has a known cost."""
    fn = build_loss(LossConfig(perceptual=0.0, color_tv=0.5))
    target = torch.rand(1, 2, 3, 8, 8)
    dist = torch.full((1, 3, 4, 6), 3.0)  # F = 3 frames of 4 x 6 Gaussians
    flat = torch.rand(1, 3, 1, 1, 3).expand(1, 3, 4, 6, 3).reshape(1, 72, 3)
    terms = fn(target, target, torch.full((1, 72), 0.5), dist, flat)
    assert terms["color_tv"].item() == pytest.approx(0.0, abs=1e-7) and terms["loss"].item() == pytest.approx(0.0)
    edge = torch.zeros(1, 3, 4, 6, 3)
    edge[..., 3:, :] = 1.0  # columns 3..5 white: one step of 1 in 5 horizontal neighbour pairs, none vertical
    terms = fn(target, target, torch.full((1, 72), 0.5), dist, edge.reshape(1, 72, 3))
    assert terms["color_tv"].item() == pytest.approx(1 / 5)
    assert terms["loss"].item() == pytest.approx(0.5 / 5)
    assert map_tv(edge.movedim(-1, -3)).item() == pytest.approx(1 / 5)
    with pytest.raises(ValueError, match="colours"):
        fn(target, target, torch.full((1, 72), 0.5), dist)
