"""LaLRM benchmark: training steps/s and peak memory of the tiny and a small model on CPU; on a CUDA GPU,
the full model's forward+backward at 17,550 tokens in bf16 with achieved TFLOP/s.

Run: `python scripts/bench_lalrm.py` (wired into scripts/benchmark.py as the `lalrm` area).
CPU steps are the real training step (model -> pixel-aligned Gaussians -> deferred render of the
supervision views -> MSE + perceptual (random VGG: speed only) -> backward -> AdamW) on random latents,
each case in a fresh process so its peak RSS is its own.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time

import torch

from lalrm import LaLRM
from lalrm.loss import LossConfig, build_loss
from lalrm.sizes import describe_stage, transformer_flops
from wonderland.geometry import Cameras, K_from_fov, look_at
from wonderland.render import render_batch

H200_BF16_TFLOPS = 790.0  # dense bf16 peak, the reference
TINY = dict(width=64, depth=2, num_heads=4, head_stride=8)
SMALL = dict(width=256, depth=6, num_heads=4, head_stride=8)
# (name, model, frames, video h, w, views, supervision h, w)
CPU_CASES = [("tiny", TINY, 9, 32, 48, 2, 16, 24), ("small", SMALL, 9, 64, 96, 4, 32, 48)]


def _cameras(frames: int, height: int, width: int, device="cpu") -> Cameras:
    angles = torch.linspace(0, 0.5, frames, dtype=torch.float64)
    eyes = torch.stack([3 * angles.sin(), torch.zeros_like(angles), -3 * angles.cos()], -1)
    return Cameras(look_at(eyes, torch.zeros_like(eyes))[None], K_from_fov(60, height, width), height, width).to(device)


def _cpu_case(model_kwargs: dict, frames: int, height: int, width: int, views: int, sh: int, sw: int,
              steps: int = 3) -> tuple[float, float]:
    """-> (training steps per second, peak MiB above the RSS before the first step)."""
    torch.manual_seed(0)
    model = LaLRM(**model_kwargs)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    loss_fn = build_loss(LossConfig(perceptual=0.5, allow_random_weights=True))
    cams = _cameras(frames, height, width)
    sup = cams[:, :views].resize(sh, sw)
    latents = torch.randn(1, 16, (frames - 1) // 4 + 1, height // 8, width // 8)
    target = torch.rand(1, views, 3, sh, sw)

    def step():
        out = model(latents, cams)
        rgb = render_batch(out.gaussians, sup, 1.0, deferred=True).rgb
        loss_fn(rgb, target, out.gaussians.opacities, out.distance)["loss"].backward()
        opt.step()
        opt.zero_grad()

    step()  # first-use costs (autograd, checkpoint set-up) are not training
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = (time.perf_counter() - start) / steps
    return 1 / seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base


def _worker(args, queue) -> None:
    torch.set_num_threads(args[-1])
    queue.put(_cpu_case(*args[:-1]))


def _in_fresh_process(*args):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_worker, args=(args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _cuda_full(checkpointing: bool) -> tuple[float, float]:
    """Full model, one 49 x 480 x 720 scene, backbone + head fwd+bwd in bf16 -> (seconds, peak GiB)."""
    model = LaLRM(width=1024, depth=24, num_heads=16, head_stride=8).cuda()
    if checkpointing:
        model.enable_gradient_checkpointing()
    latents = torch.randn(1, 16, 13, 60, 90, device="cuda")
    plucker = torch.randn(1, 49, 6, 480, 720, device="cuda")
    for i in range(4):  # 1 warm-up + 3 timed
        if i == 1:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
        with torch.autocast("cuda", torch.bfloat16):
            raw = model.predict_map(latents, plucker)
        raw.float().square().mean().backward()
        model.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / 3, torch.cuda.max_memory_allocated() / 2**30


def bench_lalrm(threads: int | None = None) -> None:
    threads = threads or torch.get_num_threads()
    print(f"== LaLRM training step, CPU ({threads} threads), batch 1, deferred render, float32 ==")
    print(f"{'model':>6} {'params':>10} {'frames x video':>15} {'views':>9} {'steps/s':>8} {'peak MiB':>9}")
    for name, kwargs, f, h, w, v, sh, sw in CPU_CASES:
        params = describe_stage(kwargs, f, h, w)["parameters"]
        rate, mib = _in_fresh_process(kwargs, f, h, w, v, sh, sw, 3, threads)
        print(f"{name:>6} {params:10,d} {f:>5} x {h}x{w:<5} {v:>2} @{sh}x{sw} {rate:8.3f} {mib:9.0f}", flush=True)

    if not torch.cuda.is_available():
        print("== CUDA: no GPU here, skipped ==")
        return
    info = describe_stage(dict(width=1024, depth=24, num_heads=16, head_stride=8), 49, 480, 720)
    flops = 3 * transformer_flops(info["tokens"], 1024, 24)  # fwd + bwd (2x fwd)
    print(f"== CUDA ({torch.cuda.get_device_name()}): full LaLRM, {info['tokens']:,} tokens, bf16 autocast, "
          f"forward {info['forward_tflop']:.1f} TFLOP ==")
    for checkpointing in (False, True):
        seconds, gib = _cuda_full(checkpointing)
        extra = 4 / 3 if checkpointing else 1.0  # recomputed forward
        achieved = flops * extra / seconds / 1e12
        mode = "on " if checkpointing else "off"
        print(f"checkpointing {mode}: fwd+bwd {seconds * 1e3:8.1f} ms, peak {gib:6.2f} GiB, "
              f"{achieved:6.1f} TFLOP/s = {achieved / H200_BF16_TFLOPS:5.1%} of {H200_BF16_TFLOPS:.0f}", flush=True)


if __name__ == "__main__":
    bench_lalrm()
