"""Metric weights from config: what is configured loads, everything else is unavailable with a reason."""

import warnings

import torch

from wonderland.metrics import LPIPS
from wonderland.metrics.config import MetricWeights, load_metric_nets
from wonderland.metrics.nets import FeatureNet


class TinyI3D(torch.nn.Module):
    def forward(self, x: torch.Tensor, rescale: bool = False, resize: bool = False, return_features: bool = False):
        return x.mean((2, 3, 4))


def test_nothing_configured_means_every_network_metric_is_unavailable():
    nets = load_metric_nets(MetricWeights())
    assert nets.lpips is None and nets.inception is None and nets.i3d is None
    assert set(nets.unavailable) == {"lpips", "fid", "fvd"}
    assert "PerceptualSimilarity" in nets.unavailable["lpips"] and "i3d_torchscript" in nets.unavailable["fvd"]


def test_configured_files_load_and_the_rest_stays_unavailable(tmp_path):
    heads = {f"lin{i}.model.1.weight": torch.rand(1, c, 1, 1) for i, c in enumerate((64, 192, 384, 256, 256))}
    torch.save(heads, tmp_path / "alex.pth")
    torch.save(FeatureNet("alexnet").state_dict(), tmp_path / "alexnet.pth")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(TinyI3D()).save(str(tmp_path / "i3d.pt"))
    weights = MetricWeights(lpips_net="alex", lpips_heads=str(tmp_path / "alex.pth"),
                            lpips_backbone=str(tmp_path / "alexnet.pth"), i3d=str(tmp_path / "i3d.pt"))
    nets = load_metric_nets(weights)
    assert isinstance(nets.lpips, LPIPS) and nets.i3d is not None
    torch.testing.assert_close(nets.lpips.lin1.model[1].weight, heads["lin1.model.1.weight"], rtol=0, atol=0)
    assert nets.inception is None and list(nets.unavailable) == ["fid"]
