"""Metric and SfM cost per evaluation clip (wired into scripts/benchmark.py by the lead).

Networks run with random weights (`allow_random=True`): timing only, never a score.
"""

from __future__ import annotations

import time
import warnings

import torch


def _timed(fn, repeats: int = 1) -> float:
    fn()  # warm-up (allocations, lazy imports)
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def bench_image_metrics(num_frames: int = 2, height: int = 480, width: int = 720, device: str | None = None) -> dict:
    """PSNR / SSIM / LPIPS-alex / LPIPS-vgg per frame pair at 480x720, extrapolated to the protocol's
    300 clips x 14 frames. A few frames per batch: VGG at 480x720 holds ~90 MB of activations per image."""
    from wonderland.metrics import load_lpips, psnr, ssim

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")

    gen = torch.Generator().manual_seed(0)
    a = torch.rand(num_frames, 3, height, width, generator=gen).to(device)
    b = (a + 0.1 * torch.randn(a.shape, generator=gen).to(device)).clamp(0, 1)
    out = {"psnr_s": _timed(lambda: psnr(a, b)), "ssim_s": _timed(lambda: ssim(a, b))}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        for net in ("alex", "vgg"):
            model = load_lpips(net, allow_random=True).to(device)
            out[f"lpips_{net}_s"] = _timed(lambda m=model: m(a, b))
    out = {k: v / num_frames for k, v in out.items()}  # per frame pair
    for k, v in out.items():
        print(f"{k[:-2]:>10}: {1000 * v:8.1f} ms per {height}x{width} frame pair on {device} "
              f"({v / out['psnr_s']:.0f}x PSNR; 300 clips x 14 frames: {300 * 14 * v / 60:.1f} min)")
    return out


def bench_sfm(num_frames: int = 16, sizes: tuple[tuple[int, int], ...] = ((128, 192), (240, 360))) -> dict:
    """COLMAP on the textured-room clip of tests/test_sfm.py (run from the repository root)."""
    from wonderland.metrics import camera_errors
    from wonderland.sfm import estimate_poses
    from wonderland.testing import room_clip

    out = {}
    for h, w in sizes:
        frames, c2w, K = room_clip(num_frames, h, w)
        start = time.perf_counter()
        result = estimate_poses(frames, K)
        seconds = time.perf_counter() - start
        errs = camera_errors(result.c2w, c2w, result.registered)
        out[f"{h}x{w}"] = {"seconds": seconds, "registered": result.num_registered, "rot_err": errs["rot_err"]}
        print(f"sfm {num_frames} frames {h}x{w}: {seconds:.1f} s, {result.num_registered} registered, "
              f"RotErr {errs['rot_err']:.4f}; 300 clips: {300 * seconds / 60:.0f} min")
    return out


if __name__ == "__main__":
    bench_image_metrics()
    bench_sfm()
