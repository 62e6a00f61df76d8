"""pytorch-fid's Inception: torchvision's layout (its weight file loads strictly), the TF pooling quirks."""

import pytest
import torch
import torch.nn.functional as F

from wonderland.metrics.fid import fid, inception_features, load_inception
from wonderland.metrics.inception import FIDInceptionV3

# torchvision documents inception_v3 at 27,161,264 parameters (1000 classes, with AuxLogits);
# AuxLogits = conv 768->128 (1x1) + BN, conv 128->768 (5x5) + BN, fc 768->1000:
AUX = (768 * 128 + 2 * 128) + (128 * 768 * 25 + 2 * 768) + (768 * 1000 + 1000)
FID_PARAMS = 27_161_264 - AUX + 8 * 2048 + 8  # pytorch-fid: no AuxLogits, 1008 classes


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    net = FIDInceptionV3().eval()
    for m in net.modules():  # non-trivial BN statistics, as in a trained file
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return net


def test_parameter_count_and_torchvision_keys(model):
    assert sum(p.numel() for p in model.parameters()) == FID_PARAMS
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes["Conv2d_1a_3x3.conv.weight"] == (32, 3, 3, 3)
    assert shapes["Conv2d_4a_3x3.bn.running_var"] == (192,)
    assert shapes["Mixed_5b.branch_pool.conv.weight"] == (32, 192, 1, 1)
    assert shapes["Mixed_6b.branch7x7_2.conv.weight"] == (128, 128, 1, 7)
    assert shapes["Mixed_7a.branch3x3_2.conv.weight"] == (320, 192, 3, 3)
    assert shapes["Mixed_7c.branch3x3dbl_3b.conv.weight"] == (384, 384, 3, 1)
    assert shapes["Mixed_7c.branch_pool.conv.weight"] == (192, 2048, 1, 1)
    assert shapes["fc.weight"] == (1008, 2048)
    assert not any(k.startswith("AuxLogits") for k in shapes)


def test_tf_pooling_in_the_fid_blocks(model):
    seen = {}
    hooks = [getattr(model, name).branch_pool.register_forward_pre_hook(
        lambda m, args, name=name: seen.__setitem__(name, args[0])) for name in ("Mixed_5b", "Mixed_7b", "Mixed_7c")]
    inputs = {}
    hooks += [getattr(model, name).register_forward_pre_hook(
        lambda m, args, name=name: inputs.__setitem__(name, args[0])) for name in ("Mixed_5b", "Mixed_7b", "Mixed_7c")]
    with torch.no_grad():
        feats = model(torch.rand(1, 3, 120, 160))
    for h in hooks:
        h.remove()
    assert feats.shape == (1, 2048)
    for name in ("Mixed_5b", "Mixed_7b"):  # padding excluded from the average (TF), unlike torchvision
        x = inputs[name]
        torch.testing.assert_close(seen[name], F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
        assert not torch.allclose(seen[name], F.avg_pool2d(x, 3, 1, 1))
    torch.testing.assert_close(seen["Mixed_7c"], F.max_pool2d(inputs["Mixed_7c"], 3, 1, 1))


def test_pytorch_fid_file_loads_strictly_and_scores(model, tmp_path, rng):
    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(model.state_dict(), path, _use_new_zipfile_serialization=False)  # the 2019 file predates zip
    loaded = load_inception(path)
    assert isinstance(loaded, FIDInceptionV3)
    images = (torch.rand(1, 3, 64, 64, generator=rng) * 255).round() / 255  # already 8-bit
    torch.testing.assert_close(torch.from_numpy(inception_features(loaded, images)),
                               model(images).double(), rtol=1e-4, atol=1e-5)
    # A file missing weights is refused, not half-random.
    torch.save({k: v for k, v in model.state_dict().items() if k.startswith("Conv2d")}, path)
    with pytest.raises(RuntimeError, match="Missing key"):
        load_inception(path)
    value, reason = fid(images.expand(2, -1, -1, -1), images.expand(2, -1, -1, -1), tmp_path / "absent.pth")
    assert value is None and "pytorch-fid" in reason and "not found" in reason
