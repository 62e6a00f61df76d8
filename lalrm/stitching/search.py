"""Stitching-layer search: the closed-form map from the latents to every candidate layer, k* = argmin MSE.

`search_layers` works on the named layers of any `nn.Module` through forward hooks. Alignment (what makes the
fitted map the stitching Conv3d's weights): for each clip, the latents B are unfolded into the receptive field of
every output position of the stitching conv (`layer.unfold_latents`: temporal upsampling, replicate padding, the
kt x kh x kw neighbourhood); the layer's activation, laid out on its grid (B, C, T', h', w'), gives A_k at the same
positions. Row j of B and row j of A_k are one token (or pixel) of the 3D model at layer k, so the map S_k with
bias b_k satisfies rows @ S_k + b_k = conv(upsample(latents)). The grids must agree exactly (checked).

Each hook adds its layer's B^T A to the streamed sums and drops the activation; once every searched layer has
been seen in a forward pass, the hook stops the model (the rest of it would be wasted work). Memory: one clip's
rows and one layer's activations at a time, plus the sums (`regression.py`), whatever the number of clips.

`run_search(cfg)` is `python -m lalrm.stitching search`: writes `<output_dir>/decoder` (the stitched decoder at
k*, its conv set to S_k*), `mse.png` and, last, `search.json`, each atomically.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .layer import StitchSpec, unfold_latents
from .regression import LinearFit, RidgeAccumulator

log = logging.getLogger(__name__)


class _Seen(Exception):
    """Raised by the last hook of a forward pass: every searched layer has been captured."""


def grid_rows(grid: Tensor) -> Tensor:
    """(B, C, T', h', w') -> (B*T'*h'*w', C) in the order `unfold_latents` gives its rows."""
    return grid.permute(0, 2, 3, 4, 1).reshape(-1, grid.shape[1])


@torch.no_grad()
def search_layers(module: nn.Module, layers: Sequence[str], batches: Iterable[tuple[Tensor, object]],
                  spec: StitchSpec, run: Callable[[object], object] | None = None,
                  to_grid: Callable[[str, object], Tensor] | None = None, ridge: float = 1e-4,
                  device: torch.device | str = "cpu") -> dict[str, LinearFit]:
    """Fit the stitching map of each named layer of `module`.

    batches: (latents (B, C_in, T, h, w), inputs) pairs; `run(inputs)` makes `module` compute the activations
    (default `module(*inputs)`). to_grid(name, hook output) -> (B, C, T', h', w') (default: the output itself, a
    5-D tensor). -> {layer: LinearFit} in the order of `layers`.
    """
    run = run or (lambda inputs: module(*inputs))
    to_grid = to_grid or (lambda name, out: out)
    acc: RidgeAccumulator | None = None
    seen: set[str] = set()
    expected: tuple[int, ...] = ()

    def hook_for(name: str):
        def hook(_module, _inputs, output):
            grid = to_grid(name, output)
            if grid.ndim != 5 or tuple(grid.shape[:1] + grid.shape[2:]) != expected:
                raise ValueError(f"layer {name}: activation grid {tuple(grid.shape)} does not match the stitching "
                                 f"conv's output (B, T', h', w') = {expected} for {spec}")
            acc.add_targets(name, grid_rows(grid))
            seen.add(name)
            if len(seen) == len(layers):
                raise _Seen
        return hook

    handles = [module.get_submodule(name).register_forward_hook(hook_for(name)) for name in layers]
    try:
        for latents, inputs in batches:
            rows = unfold_latents(latents.to(device, torch.float64), spec)  # (B, T', h', w', d)
            expected = tuple(rows.shape[:4])
            if acc is None:
                acc = RidgeAccumulator(rows.shape[-1], device)
            acc.add_inputs(rows.flatten(0, 3))
            seen.clear()
            try:
                run(inputs)
            except _Seen:
                pass
            if len(seen) != len(layers):
                missing = [n for n in layers if n not in seen]
                raise ValueError(f"layers {', '.join(missing)} did not run in the model's forward pass")
    finally:
        for h in handles:
            h.remove()
    if acc is None:
        raise ValueError("no batches to search on")
    return {name: acc.solve(name, ridge) for name in layers}


@dataclass
class SearchResult:
    fits: dict[str, LinearFit]
    best: str
    criterion: str

    def score(self, name: str) -> float:
        fit = self.fits[name]
        return fit.mse if self.criterion == "mse" else fit.relative_mse

    def to_json(self) -> dict:
        return {"criterion": self.criterion, "best": self.best,
                "layers": [{"name": n, "mse": f.mse, "relative_mse": f.relative_mse, "variance": f.variance}
                           for n, f in self.fits.items()]}


def choose(fits: dict[str, LinearFit], criterion: str = "relative") -> SearchResult:
    """k* = the layer with the smallest `relative` MSE (1 - R^2: invariant to the layer's scale) or plain `mse`
    (VIST3A); the first one on a tie."""
    key = (lambda n: fits[n].mse) if criterion == "mse" else (lambda n: fits[n].relative_mse)
    return SearchResult(fits, min(fits, key=key), criterion)


def search_model(model, vae, clips: Iterable[tuple[Tensor, object]], spec: StitchSpec, layers: Sequence[str],
                 ridge: float = 1e-4, criterion: str = "relative") -> SearchResult:
    """The search for a `Stitchable` model: clips of (frames (B, F, 3, H, W), cameras (B, F)) at the VAE's size;
    the latents come from the frozen `vae`, the activations from the model on frames at its `rgb_size`."""
    from wonderland.vae import encode_video

    from .data import rgb_inputs

    device = next(model.parameters()).device

    def batches():
        for frames, cameras in clips:
            frames, cameras = frames.to(device), cameras.to(device)
            yield encode_video(vae, frames).float(), (frames, cameras)

    shape = {}

    def run(inputs):
        frames, cameras = inputs
        shape["video"] = (frames.shape[1], cameras.height, cameras.width)
        model.forward_rgb(*rgb_inputs(model, frames, cameras))

    fits = search_layers(model, layers, batches(), spec, run=run, ridge=ridge, device=device,
                         to_grid=lambda name, out: model.layer_to_grid(name, out, *shape["video"]))
    return choose(fits, criterion)


def plot_mse(result: SearchResult, out) -> None:
    """MSE per layer (log scale when every MSE is positive) with the relative MSE on a second axis; k* marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from wonderland.io import atomic_path

    names = list(result.fits)
    x = range(len(names))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(names) + 2), 4))
    ax.plot(x, [result.fits[n].mse for n in names], "o-", color="C0", label="MSE")
    if all(result.fits[n].mse > 0 for n in names):  # an exact fit (fewer rows than unknowns) has MSE 0: linear
        ax.set_yscale("log")
    ax.set_ylabel("stitching MSE", color="C0")
    rel = ax.twinx()
    rel.plot(x, [result.fits[n].relative_mse for n in names], "s--", color="C1", label="relative MSE")
    rel.set_ylabel("relative MSE (1 - R^2)", color="C1")
    best = names.index(result.best)
    ax.axvline(best, color="C2", alpha=0.5)
    ax.set_xticks(list(x), names, rotation=60, ha="right", fontsize=7)
    ax.set_title(f"k* = {result.best} (criterion: {result.criterion})")
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def run_search(cfg) -> SearchResult:
    """`python -m lalrm.stitching search`: cfg is a checked `SearchConfig` (config.build_search_config)."""
    from pathlib import Path

    from tqdm import tqdm

    from wonderland.io import atomic_dir, write_json
    from wonderland.vae import load_vae

    from .adapter import adapter_class
    from .data import clip_stream, collate_clips
    from .decoder import StitchedDecoder
    from .layer import parse_stitch_spec

    t0 = time.perf_counter()
    device = torch.device("cuda" if cfg.device == "auto" and torch.cuda.is_available() else
                          "cpu" if cfg.device == "auto" else cfg.device)
    model = adapter_class(cfg.model.adapter).from_pretrained(cfg.model.path).eval().requires_grad_(False).to(device)
    vae = load_vae(cfg.vae.path).to(device)
    layers = list(cfg.layers) if cfg.layers is not None else model.candidate_layers()
    spec = parse_stitch_spec(cfg.stitch)
    stream = clip_stream(cfg.data, cfg.clip, cfg.seed)
    starts = range(0, cfg.num_clips, cfg.batch_size)
    clips = (collate_clips([stream[i] for i in range(s, min(s + cfg.batch_size, cfg.num_clips))])
             for s in tqdm(starts, desc="stitching search", disable=not cfg.progress))
    result = search_model(model, vae, clips, spec, layers, cfg.ridge, cfg.criterion)
    out = Path(cfg.output_dir)
    fit = result.fits[result.best]
    with atomic_dir(out / "decoder") as tmp:
        StitchedDecoder.from_model(model, cfg.model.adapter, result.best, cfg.stitch, fit.weight,
                                   fit.bias).save_pretrained(tmp)
    plot_mse(result, out / "mse.png")
    write_json(out / "search.json", result.to_json() | {
        "format": "wonderland.stitching_search", "version": 1, "stitch": str(spec), "ridge": cfg.ridge,
        "adapter": cfg.model.adapter, "model": str(cfg.model.path), "vae": str(cfg.vae.path),
        "clips": cfg.num_clips, "clip": [cfg.clip.num_frames, cfg.clip.height, cfg.clip.width], "rows": fit.rows,
        "decoder": "decoder", "seconds": round(time.perf_counter() - t0, 2)})
    log.info("stitching search: k* = %s (%s %.4g) of %d layers; %s", result.best, cfg.criterion,
             result.score(result.best), len(layers), out / "search.json")
    return result
