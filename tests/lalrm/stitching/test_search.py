"""The layer search on a planted problem, and the streamed closed form against a direct least-squares solve."""

import torch
from torch import nn

from lalrm.stitching import RidgeAccumulator, StitchingLayer, parse_stitch_spec, unfold_latents
from lalrm.stitching.search import choose, grid_rows, search_layers

SPEC = parse_stitch_spec("conv3d_k3x3x3_o8_s1x2x2_p1x1x1")  # d = 16 x 27 = 432 columns


class Planted(nn.Module):
    """A "3D model" reading latents whose layer `planted` is exactly a stitching conv of them (unknown weights and
    bias); `squared` is a nonlinear function of it, `shifted` a linear map of latents outside the receptive field
    (the planted map of the latents two tokens to the right), `noise` has nothing to do with the latents."""

    def __init__(self):
        super().__init__()
        self.planted = StitchingLayer(SPEC)
        self.squared = nn.Identity()
        self.shifted = nn.Identity()
        self.noise = nn.Identity()

    def forward(self, latents, generator):
        a = self.planted(latents)  # (B, 8, 4T-3, h/2, w/2)
        self.squared(a * a)
        self.shifted(torch.roll(a, 2, dims=-1))
        self.noise(torch.randn(a.shape, generator=generator))


def batches(n: int, seed: int = 0, mean: float = 0.5):
    """Latents with a non-zero mean, as real VAE latents have."""
    g = torch.Generator().manual_seed(seed)
    for _ in range(n):
        latents = torch.randn(2, 16, 3, 8, 12, generator=g) + mean
        yield latents, (latents, g)


def test_the_search_picks_the_planted_layer_and_recovers_its_map():
    torch.manual_seed(0)
    model = Planted()
    layers = ["squared", "shifted", "planted", "noise"]
    fits = search_layers(model, layers, batches(8), SPEC)  # 8 x 2 x 9 x 4 x 6 = 3,456 rows for 432 unknowns
    result = choose(fits, "mse")
    assert result.best == "planted" and choose(fits, "relative").best == "planted"
    planted = fits["planted"]
    assert planted.relative_mse < 1e-9 and planted.rows == 3456
    for name in ("squared", "shifted", "noise"):  # none of them is a linear function of the receptive field
        assert fits[name].relative_mse > 0.2, (name, fits[name].relative_mse)
    w = model.planted.conv.weight.detach().double().flatten(1).T  # (432, 8): the planted map, rows @ w + b
    torch.testing.assert_close(planted.weight, w, atol=1e-5, rtol=0)
    torch.testing.assert_close(planted.bias, model.planted.conv.bias.detach().double(), atol=1e-5, rtol=0)


def test_without_an_intercept_in_the_solve_the_planted_map_is_not_recovered():
    """Why the solve is centred: VIST3A's code (no intercept, then bias = mean residual) misses the planted
    affine map, for latents of mean 0.5 and of mean 0 alike; the centred solve recovers it in both."""
    torch.manual_seed(0)
    model = Planted()
    acc_fits = {}
    for mean in (0.5, 0.0):
        for centred in (True, False):
            acc = RidgeAccumulator(SPEC.in_features(16))
            for latents, _ in batches(8, mean=mean):
                acc.add_inputs(unfold_latents(latents.double(), SPEC).flatten(0, 3))
                acc.add_targets("planted", grid_rows(model.planted(latents)))
            acc_fits[mean, centred] = acc.solve("planted", 1e-4, centred=centred).relative_mse
    for mean in (0.5, 0.0):
        assert acc_fits[mean, True] < 1e-9 < 1e-5 < acc_fits[mean, False], acc_fits


def test_streamed_sums_give_the_direct_ridge_solution_and_its_residual():
    """Four streamed batches == one least-squares problem on all rows at once (weights, bias, MSE); the
    accumulator's memory does not grow with the number of batches."""
    torch.manual_seed(1)
    conv = StitchingLayer(SPEC).double()
    xs, ys = [], []
    acc = RidgeAccumulator(SPEC.in_features(16))
    sizes = []
    for latents, _ in batches(4, seed=3):
        latents = latents.double()
        target = torch.tanh(conv(latents)) + 0.1  # nonlinear: a real residual
        rows = unfold_latents(latents, SPEC).flatten(0, 3)
        acc.add_inputs(rows)
        acc.add_targets("layer", grid_rows(target))
        xs.append(rows), ys.append(grid_rows(target))
        sizes.append(sum(t.numel() for t in [acc.gram, acc.sum_b, *acc.cross.values(), *acc.sum_a.values()]))
    assert len(set(sizes)) == 1
    fit = acc.solve("layer", ridge=1e-4)
    x, y = torch.cat(xs), torch.cat(ys)
    xc, yc = x - x.mean(0), y - y.mean(0)  # the affine least-squares problem, solved on all rows at once
    w = torch.linalg.solve(xc.T @ xc + 1e-4 * torch.eye(x.shape[1], dtype=x.dtype), xc.T @ yc)
    b = (y - x @ w).mean(0)
    residual = y - x @ w - b
    torch.testing.assert_close(fit.weight, w)
    torch.testing.assert_close(fit.bias, b)
    assert abs(fit.mse - residual.pow(2).mean().item()) < 1e-9 * y.pow(2).mean().item()
    assert abs(fit.relative_mse - residual.pow(2).sum().item() / (y - y.mean(0)).pow(2).sum().item()) < 1e-9
    assert 0.01 < fit.relative_mse < 0.9
