"""Renderer benchmark: the reference renderer on CPU, and gsplat vs the reference on a CUDA GPU.

Run: `python scripts/bench_render.py` (the lead wires `bench_render` into scripts/benchmark.py).
CPU cases run each in a fresh process so that the peak resident memory they report is their own
(peak RSS minus the RSS before rendering, i.e. including the scene's own tensors' gradients).
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time

import torch

from wonderland.gaussians import Gaussians
from wonderland.geometry import Cameras, K_from_fov, look_at
from wonderland.render import render

CPU_CASES = [(10_000, 128), (10_000, 256), (100_000, 128), (100_000, 256)]
CPU_FWD_BWD_LIMIT_S = 120.0  # skip fwd+bwd when forward x 4 predicts more than this
FULL_SCALE = (4_233_600, 480, 720)  # LaLRM high-res output: 49 x 240 x 360 Gaussians, rendered at 480x720


def _scene(g: int, height: int, width: int, device: str = "cpu", seed: int = 0) -> tuple[Gaussians, Cameras]:
    """g Gaussians ~ N(0, 1) with 0.5-3.5 cm scales, seen from 4 units away (50° fov): a dense blob that
    covers most of the image with a few-pixel footprint per Gaussian, as pixel-aligned output does."""
    gen = torch.Generator().manual_seed(seed)
    g_ = Gaussians(torch.randn(g, 3, generator=gen), torch.randn(g, 4, generator=gen),
                   torch.rand(g, 3, generator=gen) * 0.03 + 0.005, torch.rand(g, generator=gen),
                   torch.rand(g, 3, generator=gen)).to(device)
    c2w = look_at(torch.tensor([[0.0, 0.0, -4.0]], dtype=torch.float64), torch.zeros(1, 3, dtype=torch.float64))
    return g_, Cameras(c2w, K_from_fov(50, height, width)[None], height, width).to(device)


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _cpu_case(g: int, size: int, backward: bool, threads: int) -> tuple[float, float]:
    """-> (seconds, peak MiB above the pre-render RSS) for one view."""
    torch.set_num_threads(threads)
    warm, warm_cams = _scene(100, 16, 16)  # first-use costs (autograd/checkpoint set-up, ~4 s) are not rendering
    warm.means.requires_grad_()
    render(warm, warm_cams).rgb.sum().backward()
    gaussians, cams = _scene(g, size, size)
    params = [gaussians.means, gaussians.quats, gaussians.scales, gaussians.opacities, gaussians.colors]
    for p in params:
        p.requires_grad_(backward)
    base = _rss_mib()
    start = time.perf_counter()
    with torch.set_grad_enabled(backward):
        out = render(gaussians, cams, backend="reference")
        if backward:
            (out.rgb.sum() + out.depth.sum()).backward()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return seconds, peak - base


def _in_fresh_process(*args) -> tuple[float, float]:
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(_cpu_case, args)


def _cuda_time(gaussians: Gaussians, cams: Cameras, backend: str, backward: bool, repeats: int = 3
               ) -> tuple[float, float]:
    """-> (median seconds, peak GiB allocated) on the GPU."""
    times = []
    for p in (gaussians.means, gaussians.quats, gaussians.scales, gaussians.opacities, gaussians.colors):
        p.requires_grad_(backward)
        p.grad = None
    for i in range(repeats + 1):  # the first run warms up (and JIT-builds gsplat's kernels)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        with torch.set_grad_enabled(backward):
            out = render(gaussians, cams, backend=backend)
            if backward:
                (out.rgb.sum() + out.depth.sum()).backward()
        torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - start)
        del out
    return sorted(times)[len(times) // 2], torch.cuda.max_memory_allocated() / 2**30


def _early_stop_ratio(g: int, size: int) -> None:
    """No-grad rendering with the T < 1e-4 tile stop against full compositing, same scene and view."""
    from wonderland.render.project import project
    from wonderland.render.rasterize import rasterize

    gaussians, cams = _scene(g, size, size)
    p = project(gaussians.means, gaussians.quats, gaussians.scales, cams.w2c[0].float(), cams.K[0].float(), size, size)
    feats = torch.cat([gaussians.colors[p.ids], p.depths[:, None]], -1)
    seconds, images = {}, {}
    with torch.no_grad():
        for stop in (0.0, 1e-4):
            start = time.perf_counter()
            images[stop] = rasterize(p, gaussians.opacities[p.ids], feats, size, size, stop_transmittance=stop)[0][:3]
            seconds[stop] = time.perf_counter() - start
    diff = float((images[0.0] - images[1e-4]).abs().max())
    print(f"{g:10d} {size:>4}x{size:<4} full {seconds[0.0]:6.2f} s, stop at T < 1e-4 {seconds[1e-4]:6.2f} s: "
          f"{seconds[0.0] / seconds[1e-4]:4.1f}x faster, max colour difference {diff:.1e}", flush=True)


def bench_render(threads: int | None = None) -> None:
    threads = threads or torch.get_num_threads()
    print(f"== reference renderer, CPU ({threads} threads): no-grad early stop (rendering, not training) ==")
    for g, size in CPU_CASES[:3]:
        _early_stop_ratio(g, size)
    print(f"== reference renderer, CPU ({threads} threads), one view, float32 ==")
    print(f"{'gaussians':>10} {'size':>9} {'fwd s':>8} {'fwd MiB':>8} {'fwd+bwd s':>10} {'f+b MiB':>8} {'ratio':>6}")
    for g, size in CPU_CASES:
        fwd, fwd_mem = _in_fresh_process(g, size, False, threads)
        if 4 * fwd > CPU_FWD_BWD_LIMIT_S:
            row = f"{'skipped':>10} {'':>8} {'':>6}  (forward x 4 > {CPU_FWD_BWD_LIMIT_S:.0f} s)"
        else:
            both, both_mem = _in_fresh_process(g, size, True, threads)
            row = f"{both:10.2f} {both_mem:8.0f} {both / fwd:6.1f}"
        print(f"{g:10d} {size:>4}x{size:<4} {fwd:8.2f} {fwd_mem:8.0f} {row}", flush=True)

    if not torch.cuda.is_available():
        print("== CUDA: no GPU here, skipped ==")
        return
    g, h, w = FULL_SCALE
    gaussians, cams = _scene(g, h, w, device="cuda")
    print(f"== CUDA ({torch.cuda.get_device_name()}): {g:,} Gaussians at {h}x{w}, one view ==")
    from wonderland.render.gsplat_backend import gsplat_available

    rows = {}
    for backend in ("gsplat", "reference"):
        if backend == "gsplat" and not gsplat_available():
            print("gsplat: not installed")
            continue
        for backward in (False, True):
            seconds, gib = _cuda_time(gaussians, cams, backend, backward)
            rows[backend, backward] = seconds
            print(f"{backend:>9} {'fwd+bwd' if backward else 'fwd':>7}: {seconds * 1e3:9.1f} ms, peak {gib:6.2f} GiB",
                  flush=True)
    for backward in (False, True):
        if ("gsplat", backward) in rows:
            ratio = rows["reference", backward] / rows["gsplat", backward]
            print(f"reference / gsplat ({'fwd+bwd' if backward else 'fwd'}): {ratio:.1f}x")


if __name__ == "__main__":
    bench_render()
