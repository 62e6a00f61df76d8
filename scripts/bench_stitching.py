"""Stitching benchmark (VIST3A, lalrm/stitching): the layer search's speed and memory, and the full-size sums.

Run: `python scripts/bench_stitching.py` (wired into scripts/benchmark.py as the `stitching` area).
CPU: the real search (`search_model`: demo VAE encode -> tiny RGB LRM forward with hooks on every candidate
layer -> float64 sums) on random 9 x 32 x 48 clips, N and 4N clips each in a fresh process, so the peak RSS is the
search's own: it must not grow with N (the sums are O(d^2 + d c) per layer). Then the label-free fine-tune step
of the stitched decoder (teacher on frames + VAE encode + decoder + L1 + backward + AdamW). Full size: the sums'
and one clip's rows' sizes for SPEC's specs, by arithmetic (nothing allocated).
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
DEMO_VAE = ROOT / "models" / "wonderland-demo" / "base" / "vae"
TINY_STITCH = "conv3d_k5x3x3_o64_s4x2x2_p2x1x1"


def _clips(n: int, batch: int):
    from wonderland.geometry import Cameras, K_from_fov, look_at

    g = torch.Generator().manual_seed(0)
    angles = torch.linspace(0, 0.5, 9, dtype=torch.float64)
    eyes = torch.stack([3 * angles.sin(), torch.zeros_like(angles), -3 * angles.cos()], -1)
    cams = Cameras(look_at(eyes, torch.zeros_like(eyes))[None].float().expand(batch, -1, -1, -1),
                   K_from_fov(60, 32, 48).float().expand(batch, 9, -1, -1), 32, 48)
    for _ in range(n // batch):
        yield torch.rand(batch, 9, 3, 32, 48, generator=g), cams


def _models():
    from lalrm.stitching import RGBLRM
    from wonderland.testing import tiny_lalrm_kwargs
    from wonderland.vae import load_vae

    torch.manual_seed(0)
    return RGBLRM(**tiny_lalrm_kwargs(depth=4)).eval().requires_grad_(False), load_vae(DEMO_VAE)


def _search_case(num_clips: int) -> tuple[float, float]:
    """-> (clips per second, peak MiB above the RSS once the models are loaded and one batch has run)."""
    from lalrm.stitching import parse_stitch_spec
    from lalrm.stitching.search import search_model

    model, vae = _models()
    spec = parse_stitch_spec(TINY_STITCH)
    search_model(model, vae, _clips(4, 4), spec, model.candidate_layers())  # first-use costs
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    search_model(model, vae, _clips(num_clips, 4), spec, model.candidate_layers())
    seconds = time.perf_counter() - start
    return num_clips / seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base


def _fit_case(steps: int = 3) -> tuple[float, int, int]:
    """-> (fine-tune steps per second at batch 2, trainable parameters, all parameters); LoRA rank 8."""
    from lalrm.stitching import StitchedDecoder
    from lalrm.stitching.fit import add_lora, make_loss

    model, vae = _models()
    decoder = StitchedDecoder.from_model(model, "rgb_lrm", "tokenizer", TINY_STITCH)
    add_lora(decoder, 8, 8)
    params = [p for p in decoder.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    weights = {"quats": 1.0, "scales": 10.0, "opacities": 1.0, "colors": 1.0, "distance": 1.0}  # fit.yaml
    loss = make_loss(model, vae, weights, torch.device("cpu"))
    batch = next(_clips(2, 2))

    def step():
        loss(decoder, batch, None)["loss"].backward()
        opt.step()
        opt.zero_grad()

    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - start), sum(p.numel() for p in params), \
        sum(p.numel() for p in decoder.parameters())


def _worker(fn, args, threads, queue) -> None:
    torch.set_num_threads(threads)
    queue.put(fn(*args))


def _in_fresh_process(fn, *args, threads: int):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_worker, args=(fn, args, threads, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def full_size_sums() -> None:
    """Sizes of the search's float64 sums and of one clip's rows at 49 x 480 x 720, by arithmetic."""
    from lalrm.stitching import parse_stitch_spec
    from wonderland.latents import LATENT_CHANNELS

    print("== full size (49 frames at 480 x 720, latents 13 x 60 x 90), float64, arithmetic ==")
    print(f"{'spec':>36} {'d':>5} {'rows/clip':>10} {'rows MiB':>9} {'B^T B MiB':>10} {'per layer MiB':>14}")
    for spec in ("conv3d_k5x3x3_o1024_s1x2x2_p2x1x1", "conv3d_k5x3x3_o1024_s4x2x2_p2x1x1",
                 "conv3d_k5x7x7_o1024_s1x3x3_p2x0x0"):
        s = parse_stitch_spec(spec)
        d = s.in_features(LATENT_CHANNELS)
        t, h, w = s.output_grid(13, 60, 90)
        rows = t * h * w
        print(f"{spec:>36} {d:5d} {rows:10,d} {rows * d * 8 / 2**20:9.0f} {d * d * 8 / 2**20:10.1f} "
              f"{d * s.out_channels * 8 / 2**20:14.1f}")
    print("(per layer: B^T A_k; 24 blocks + 2 tokenizer layers of the full RGB LRM = 26 x that, whatever N)")


def bench_stitching(threads: int | None = None) -> None:
    threads = threads or torch.get_num_threads()
    print(f"== stitching search, CPU ({threads} threads): demo VAE + tiny RGB LRM (depth 4, 6 candidate layers), "
          f"9 x 32 x 48 clips in batches of 4, {TINY_STITCH} ==")
    print(f"{'clips':>6} {'clips/s':>8} {'peak MiB':>9}")
    for n in (16, 64):
        rate, mib = _in_fresh_process(_search_case, n, threads=threads)
        print(f"{n:6d} {rate:8.2f} {mib:9.1f}", flush=True)
    rate, trainable, total = _in_fresh_process(_fit_case, threads=threads)
    print(f"== label-free fine-tune step, batch 2, LoRA rank 8 at `tokenizer`: {rate:.2f} steps/s, "
          f"{trainable:,} trainable of {total:,} parameters ==", flush=True)
    full_size_sums()


if __name__ == "__main__":
    bench_stitching()
