"""Rewards of the alignment objective L = gen x L_gen - sum_r w_r r (SPEC.md section 7).

3D consistency (VIST3A): r = -(L1 + c x LPIPS) between a decoded frame and the render, at that frame's camera,
of the Gaussians the frozen LaLRM decodes from the same latents; on `views` random frames per clip. The LPIPS
term needs local weights (`wonderland.metrics.load_lpips`); with `reward.lpips=0` it is L1 alone.

Image-quality scorers (PickScore, DFN-CLIP, HPSv2 in VIST3A) are a hook: `register_quality_scorer(name, load)`
where `load(weights_path) -> score(frames (N, 3, H, W) in [0, 1]) -> (N,)`, higher is better. A scorer with a
positive weight but no weights file is reported unavailable with the reason and left out of the objective,
never computed with random weights. No scorer is bundled (their weights are not part of this project).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from wonderland.errors import InputError

Scorer = Callable[[Tensor], Tensor]
QUALITY_SCORERS: dict[str, Callable[[str], Scorer]] = {}


def register_quality_scorer(name: str, load: Callable[[str], Scorer]) -> None:
    QUALITY_SCORERS[name] = load


def load_quality_scorers(weights: dict[str, float], paths: dict[str, str]) -> tuple[dict[str, Scorer], dict[str, str]]:
    """-> (name -> scorer) for every weighted scorer that loads, (name -> why not) for the others."""
    scorers, unavailable = {}, {}
    for name, w in weights.items():
        if w <= 0:
            continue
        path = paths.get(name)
        if path is None:
            unavailable[name] = f"no local weights given (reward.quality_weights.{name}=<file>)"
        elif name not in QUALITY_SCORERS:
            unavailable[name] = (f"no loader registered for {name!r} "
                                 "(wonderland.align.register_quality_scorer)")
        elif not Path(path).exists():
            raise InputError(None, f"reward.quality_weights.{name}", f"{path} does not exist")
        else:
            scorers[name] = QUALITY_SCORERS[name](path)
    return scorers, unavailable


def render_views(lalrm, latents: Tensor, cameras, views: Tensor, background: float) -> Tensor:
    """latents (B, 16, T, h, w) + normalised cameras (B, F) -> renders (B, V, 3, H, W) of the LaLRM's Gaussians at
    the frames `views` (B, V), with gradient to the latents (the LaLRM itself is frozen)."""
    from wonderland.render import render

    g = lalrm(latents, cameras).gaussians  # (B, G)
    with torch.autocast(latents.device.type, enabled=False):
        return torch.stack([render(g[i].to(torch.float32), cameras[i][views[i]].to(torch.float32), background,
                                   deferred=True).rgb for i in range(len(views))])


def consistency(frames: Tensor, renders: Tensor, lpips=None, lpips_weight: float = 0.0) -> Tensor:
    """frames, renders (B, V, 3, H, W) in [0, 1] -> reward per clip (B,) = -(L1 + lpips_weight x LPIPS)."""
    r = -(frames - renders).abs().mean(dim=(1, 2, 3, 4))
    if lpips is not None and lpips_weight > 0:
        r = r - lpips_weight * lpips(renders, frames).mean(dim=1)
    return r
