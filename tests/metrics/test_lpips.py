"""LPIPS: official key names load strictly; the distance equals an independent cosine formulation."""

import pytest
import torch
import torch.nn.functional as F

from wonderland.metrics.lpips import load_lpips, lpips_or_reason
from wonderland.metrics.nets import FeatureNet
from wonderland.metrics.weights import MissingWeightsError

CHANNELS = {"vgg": (64, 128, 256, 512, 512), "alex": (64, 192, 384, 256, 256)}
TRUNK = {"vgg": "vgg16", "alex": "alexnet"}


def official_heads(net: str, gen: torch.Generator) -> dict[str, torch.Tensor]:
    return {f"lin{i}.model.1.weight": torch.rand(1, c, 1, 1, generator=gen) for i, c in enumerate(CHANNELS[net])}


def trunk_state(net: str, gen: torch.Generator) -> dict[str, torch.Tensor]:
    torch.manual_seed(int(torch.randint(1 << 30, (1,), generator=gen)))
    return FeatureNet(TRUNK[net]).state_dict()


def cosine_lpips(trunk: FeatureNet, heads: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor):
    """Independent form: for unit vectors a, b and weights w, sum_c w_c (a_c - b_c)^2 per pixel."""
    fx, fy = trunk(x), trunk(y)
    total = torch.zeros(x.shape[0])
    for i, layer in enumerate(fx):
        a, b = F.normalize(fx[layer], dim=1, eps=1e-10), F.normalize(fy[layer], dim=1, eps=1e-10)
        w = heads[f"lin{i}.model.1.weight"].view(1, -1, 1, 1)
        total += (w * (a - b) ** 2).sum(1).mean(dim=(1, 2))
    return total


@pytest.mark.parametrize("net", ["vgg", "alex"])
def test_official_heads_and_torchvision_trunk_load(net, tmp_path, rng):
    heads, trunk = official_heads(net, rng), trunk_state(net, rng)
    torch.save(heads, tmp_path / f"{net}.pth")
    torch.save(trunk, tmp_path / "trunk.pth")
    model = load_lpips(net, tmp_path / f"{net}.pth", tmp_path / "trunk.pth")
    x, y = torch.rand(2, 2, 3, 64, 64, generator=rng).unbind(0)
    reference_trunk = FeatureNet(TRUNK[net])
    reference_trunk.load_state_dict(trunk)
    torch.testing.assert_close(model(x, y), cosine_lpips(reference_trunk, heads, x, y), rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(model(x, x), torch.zeros(2))


def test_full_lpips_checkpoint_serves_as_both_files(tmp_path, rng):
    heads, trunk = official_heads("alex", rng), trunk_state("alex", rng)
    slice_of = {0: 1, 3: 2, 6: 3, 8: 4, 10: 5}
    full = {**heads, **{f"net.slice{slice_of[int(k.split('.')[0])]}.{k}": v for k, v in trunk.items()}}
    full["scaling_layer.shift"] = torch.zeros(1, 3, 1, 1)  # buffers of the official module are ignored
    full = {k: v for k, v in full.items() if not k.startswith("scaling")}
    torch.save(full, tmp_path / "lpips_alex_full.pth")
    model = load_lpips("alex", tmp_path / "lpips_alex_full.pth")
    torch.testing.assert_close(model.net[8].weight, trunk["8.weight"], rtol=0, atol=0)
    torch.testing.assert_close(model.lin2.model[1].weight, heads["lin2.model.1.weight"], rtol=0, atol=0)


def test_batch_shape_and_ordering_with_random_weights_on_request(rng):
    with pytest.warns(UserWarning, match="RANDOM"):
        model = load_lpips("alex", allow_random=True)
    x = torch.rand(2, 3, 3, 64, 64, generator=rng)  # (B, F, 3, H, W)
    slight = (x + 0.02 * torch.randn(x.shape, generator=rng)).clamp(0, 1)
    heavy = (x + 0.3 * torch.randn(x.shape, generator=rng)).clamp(0, 1)
    d_slight, d_heavy = model(slight, x), model(heavy, x)
    assert d_slight.shape == (2, 3)
    torch.testing.assert_close(model(x, x), torch.zeros(2, 3))
    assert (d_heavy > d_slight).all()
    torch.testing.assert_close(model(x[1, 2], slight[1, 2]), d_slight[1, 2], rtol=1e-4, atol=1e-6)


def test_missing_weights_are_refused(tmp_path, rng):
    with pytest.raises(MissingWeightsError, match="PerceptualSimilarity"):
        load_lpips("vgg")
    torch.save(official_heads("vgg", rng), tmp_path / "vgg.pth")
    with pytest.raises(MissingWeightsError, match="backbone"):
        load_lpips("vgg", tmp_path / "vgg.pth")
    model, reason = lpips_or_reason("vgg", tmp_path / "missing.pth")
    assert model is None and "not found" in reason
    # A heads file with a wrong key layout is an error, not a silently random head.
    torch.save({"lin0.weight": torch.zeros(1, 64, 1, 1)}, tmp_path / "bad.pth")
    torch.save(trunk_state("vgg", rng), tmp_path / "trunk.pth")
    with pytest.raises(RuntimeError, match="Missing key"):
        load_lpips("vgg", tmp_path / "bad.pth", tmp_path / "trunk.pth")
