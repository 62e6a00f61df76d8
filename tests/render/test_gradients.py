"""Reference renderer gradients: finite differences, and the deferred path equals the plain one."""

import torch

from wonderland.gaussians import Gaussians
from wonderland.render import render

from .scenes import random_scene, ring_cameras

FIELDS = ("means", "quats", "scales", "opacities", "colors")


def test_gradcheck_float64_tiny_scene():
    g = random_scene(4, seed=2, spread=0.4, scale=(0.15, 0.3))
    cams = ring_cameras(2, 9, 11)
    params = [getattr(g, f).clone().requires_grad_() for f in FIELDS]
    background = torch.tensor([0.3, 0.5, 0.7], dtype=torch.float64)

    def fn(*p):
        out = render(Gaussians(*p), cams, background, backend="reference")
        return out.rgb, out.alpha, out.depth

    assert render(g, cams, backend="reference").alpha.amax() > 0.3  # the Gaussians are in view
    assert torch.autograd.gradcheck(fn, params, eps=1e-6, atol=1e-5, rtol=1e-4, fast_mode=True)


def test_deferred_path_matches_plain_path_in_values_and_gradients():
    g = random_scene(40, seed=4, dtype=torch.float32)
    cams = ring_cameras(3, 16, 18)
    background = torch.tensor([0.2, 0.1, 0.0])
    gen = torch.Generator().manual_seed(0)
    weights = [torch.randn(3, c, 16, 18, generator=gen) for c in (3, 1, 1)]
    results = []
    for deferred in (False, True):
        params = [getattr(g, f).clone().requires_grad_() for f in FIELDS]
        bg = background.clone().requires_grad_()
        out = render(Gaussians(*params), cams, bg, backend="reference", deferred=deferred)
        loss = sum((x * w).sum() for x, w in zip((out.rgb, out.alpha, out.depth), weights))
        loss.backward()
        results.append(([out.rgb, out.alpha, out.depth], [p.grad for p in params] + [bg.grad]))
    (plain_out, plain_grad), (def_out, def_grad) = results
    for a, b in zip(plain_out, def_out):
        torch.testing.assert_close(b, a)
    for name, a, b in zip((*FIELDS, "background"), plain_grad, def_grad):
        assert a.abs().sum() > 0, name
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5, msg=name)
