"""Feature nets: torchvision state-dict layout loads strictly; taps equal a hand-written forward."""

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from wonderland.metrics.nets import FeatureNet, load_feature_net

# torchvision's `features` conv indices and weight shapes (out, in, k), written out independently.
_VGG16 = {0: (64, 3), 2: (64, 64), 5: (128, 64), 7: (128, 128), 10: (256, 128), 12: (256, 256),
          14: (256, 256), 17: (512, 256), 19: (512, 512), 21: (512, 512), 24: (512, 512),
          26: (512, 512), 28: (512, 512)}
_VGG19 = {0: (64, 3), 2: (64, 64), 5: (128, 64), 7: (128, 128), 10: (256, 128), 12: (256, 256),
          14: (256, 256), 16: (256, 256), 19: (512, 256), 21: (512, 512), 23: (512, 512),
          25: (512, 512), 28: (512, 512), 30: (512, 512), 32: (512, 512), 34: (512, 512)}
TORCHVISION_SHAPES = {
    "vgg16": {i: (o, c, 3) for i, (o, c) in _VGG16.items()},
    "vgg19": {i: (o, c, 3) for i, (o, c) in _VGG19.items()},
    "alexnet": {0: (64, 3, 11), 3: (192, 64, 5), 6: (384, 192, 3), 8: (256, 384, 3), 10: (256, 256, 3)},
}


def torchvision_state(arch: str, gen: torch.Generator) -> dict[str, torch.Tensor]:
    state = {}
    for i, (o, c, k) in TORCHVISION_SHAPES[arch].items():
        state[f"{i}.weight"] = torch.randn(o, c, k, k, generator=gen) * (2 / (c * k * k)) ** 0.5
        state[f"{i}.bias"] = torch.randn(o, generator=gen) * 0.01
    return state


@pytest.mark.parametrize("arch", ["vgg16", "vgg19", "alexnet"])
def test_state_dict_keys_and_shapes_match_torchvision(arch):
    expected = {f"{i}.{p}": (o, c, k, k) if p == "weight" else (o,)
                for i, (o, c, k) in TORCHVISION_SHAPES[arch].items() for p in ("weight", "bias")}
    got = {k: tuple(v.shape) for k, v in FeatureNet(arch).state_dict().items()}
    assert got == expected


def test_torchvision_checkpoint_loads_strictly(tmp_path, rng):
    arch = "alexnet"  # the key layout of every arch is checked above; VGG-16 loads in the LPIPS tests
    state = torchvision_state(arch, rng)
    pth, st = tmp_path / "trunk.pth", tmp_path / "trunk.safetensors"
    torch.save(state, pth)
    save_file(state, str(st))
    # A whole-model checkpoint (features. + classifier.) keeps only the trunk.
    whole = tmp_path / "whole.pth"
    torch.save({**{f"features.{k}": v for k, v in state.items()}, "classifier.0.weight": torch.zeros(2)},
               whole)
    for path in (pth, st, whole):
        net = load_feature_net(arch, path)
        for k, v in net.state_dict().items():
            torch.testing.assert_close(v, state[k], rtol=0, atol=0)
        assert not net.training and not any(p.requires_grad for p in net.parameters())
    # Strict: a truncated checkpoint is an error, not a partly random net.
    del state[f"{max(TORCHVISION_SHAPES[arch])}.bias"]
    torch.save(state, pth)
    with pytest.raises(RuntimeError, match="Missing key"):
        load_feature_net(arch, pth)


def test_lpips_slice_layout_loads(tmp_path, rng):
    # LPIPS's pretrained_networks keep torchvision's indices inside net.slice1..5.
    state = torchvision_state("alexnet", rng)
    slice_of = {0: 1, 3: 2, 6: 3, 8: 4, 10: 5}
    lp = {f"net.slice{slice_of[int(k.split('.')[0])]}.{k}": v for k, v in state.items()}
    lp["lin0.model.1.weight"] = torch.zeros(1, 64, 1, 1)
    torch.save(lp, tmp_path / "lpips_alex.pth")
    net = load_feature_net("alexnet", tmp_path / "lpips_alex.pth")
    torch.testing.assert_close(net[10].weight, state["10.weight"], rtol=0, atol=0)


def test_taps_equal_hand_written_forward(tmp_path, rng):
    state = torchvision_state("vgg16", rng)
    torch.save(state, tmp_path / "w.pth")
    net = load_feature_net("vgg16", tmp_path / "w.pth")
    x = torch.rand(2, 3, 32, 48, generator=rng)
    feats = net(x, ["relu1_2", "relu2_1"])
    assert list(feats) == ["relu1_2", "relu2_1"]
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    h = (x - mean.view(3, 1, 1)) / std.view(3, 1, 1)
    h = F.relu(F.conv2d(h, state["0.weight"], state["0.bias"], padding=1))
    h = F.relu(F.conv2d(h, state["2.weight"], state["2.bias"], padding=1))
    torch.testing.assert_close(feats["relu1_2"], h, rtol=1e-4, atol=1e-5)
    h = F.relu(F.conv2d(F.max_pool2d(h, 2), state["5.weight"], state["5.bias"], padding=1))
    torch.testing.assert_close(feats["relu2_1"], h, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("arch", "size", "shapes"), [
    ("vgg19", 64, [(64, 64), (128, 32), (256, 16), (512, 8), (512, 4)]),
    ("alexnet", 128, [(64, 31), (192, 15), (384, 7), (256, 7), (256, 7)]),
])
def test_default_layers_shapes(arch, size, shapes):
    with pytest.warns(UserWarning, match="RANDOM"):
        net = load_feature_net(arch, None, allow_random=True)
    feats = net(torch.rand(1, 3, size, size))
    assert [(f.shape[1], f.shape[2]) for f in feats.values()] == shapes
    assert [net.channels(name) for name in feats] == [c for c, _ in shapes]


def test_random_weights_refused_by_default(tmp_path):
    with pytest.raises(FileNotFoundError, match="allow_random"):
        load_feature_net("vgg16", None)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_feature_net("vgg16", tmp_path / "missing.pth")
    with pytest.raises(ValueError, match="unknown feature net"):
        FeatureNet("resnet50")
