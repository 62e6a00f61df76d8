"""Full-size workloads, each run in a fresh process (`run_isolated`) so that its peak memory is its own.

Peak memory on CPU is the process's peak resident set (`resource.getrusage(RUSAGE_SELF).ru_maxrss`, in
KiB on Linux) and the resident set before the workload (`VmRSS` of /proc/self/status, after imports):
`extra_mib` = peak - before is what the workload added (weights it builds, activations, gradients).
torch's CPU allocator keeps no peak statistics (torch.cuda's do), hence the process-level numbers.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
F, H, W = 49, 480, 720  # the full video size (SPEC.md sections 1-3)
MIB = 2**20


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(name: str, kwargs: dict, threads: int, queue) -> None:
    torch.set_num_threads(threads)
    try:
        queue.put(("ok", globals()[name](**kwargs)))
    except BaseException as e:  # noqa: BLE001 (reported to the parent, which fails the test)
        queue.put(("error", f"{type(e).__name__}: {e}"))


def run_isolated(name: str, threads: int = 2, **kwargs) -> dict:
    """Run workload `name` in a fresh (spawned) process and return its result dict."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_worker, args=(name, kwargs, threads, queue))
    proc.start()
    status, result = queue.get()
    proc.join()
    if status != "ok":
        raise RuntimeError(f"workload {name} failed: {result}")
    return result


def orbit_cameras(frames: int = F, height: int = H, width: int = W):
    from wonderland.geometry import Cameras, K_from_fov, look_at

    angles = torch.linspace(0, 0.6, frames, dtype=torch.float64)
    eyes = torch.stack([3 * angles.sin(), torch.zeros_like(angles), -3 * angles.cos()], -1)
    return Cameras(look_at(eyes, torch.zeros_like(eyes))[None], K_from_fov(50.0, height, width), height, width)


# ---- workloads ---------------------------------------------------------------------------------------
def lalrm_full(bf16: bool = False) -> dict:
    """The full LaLRM (configs/lalrm/model/full.yaml, head stride 8): forward to 4,233,600 Gaussians and
    backward from a loss on every Gaussian parameter, with gradient checkpointing, one 49 x 480 x 720 scene."""
    import yaml

    from lalrm import LaLRM

    before = rss_mib()
    torch.manual_seed(0)
    cfg = yaml.safe_load((ROOT / "configs" / "lalrm" / "model" / "full.yaml").read_text())
    model = LaLRM(**cfg).train()
    model.enable_gradient_checkpointing()
    cams = orbit_cameras()
    latents = torch.randn(1, 16, 13, H // 8, W // 8)
    t0 = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out = model(latents, cams)
        g = out.gaussians
        loss = (g.means.square().mean() + g.colors.mean() + g.scales.mean() + g.opacities.mean() + g.quats.mean()
                + out.distance.mean())
    forward_s = time.perf_counter() - t0
    loss.backward()
    seconds = time.perf_counter() - t0
    grads = [p.grad for p in model.parameters()]
    return {"seconds": seconds, "forward_seconds": forward_s, "peak_mib": peak_mib(), "before_mib": before,
            "extra_mib": peak_mib() - before, "num_gaussians": int(g.means.shape[1]),
            "parameters": sum(p.numel() for p in model.parameters()),
            "all_grads_finite": all(x is not None and bool(torch.isfinite(x).all()) for x in grads),
            "loss": float(loss.detach())}


def camera_block_full(checkpointing: bool = True) -> dict:
    """One full-width CogVideoX-5B block with its control copy, the camera-LoRA (rank 256) and both camera
    encoders, at the full 17,550 + 226 = 17,776-token sequence: forward + backward of the training output."""
    from camera_video.models import BASE_5B_I2V, CameraControlConfig, build_camera_transformer, rotary_embedding

    before = rss_mib()
    torch.manual_seed(0)
    camera = CameraControlConfig(num_control_blocks=1)  # rank 256, the full encoders
    model = build_camera_transformer(camera, {**BASE_5B_I2V, "num_layers": 1}).train()
    if checkpointing:
        model.enable_gradient_checkpointing()
    with torch.no_grad():  # as after training: every zero layer live, so every path carries gradient
        for name, p in model.named_parameters():
            if p.requires_grad and ("zero_linears" in name or "lora_B" in name or ".proj." in name):
                p.normal_(0, 0.01)
            elif name.endswith("fuse.weight"):  # [identity | zero]: its zero half would stop the LoRA encoder's
                p.add_(torch.randn_like(p), alpha=0.01)  # gradient (a trained fuse has none)
    c = model.config
    t = 13
    hidden = torch.randn(1, t, 32, H // 8, W // 8)
    text = torch.randn(1, c.max_text_seq_length, c.text_embed_dim)
    plucker = torch.randn(1, F, 6, H, W)
    rope = rotary_embedding(c, t, H // 8, W // 8)
    tokens = t * (H // 8 // c.patch_size) * (W // 8 // c.patch_size) + c.max_text_seq_length
    t0 = time.perf_counter()
    pred = model(hidden, text, torch.tensor([500]), plucker=plucker, image_rotary_emb=rope).sample
    forward_s = time.perf_counter() - t0
    pred.square().mean().backward()
    seconds = time.perf_counter() - t0
    trainable = [p for p in model.parameters() if p.requires_grad]
    return {"seconds": seconds, "forward_seconds": forward_s, "peak_mib": peak_mib(), "before_mib": before,
            "extra_mib": peak_mib() - before, "tokens": tokens, "shape": list(pred.shape),
            "trainable": sum(p.numel() for p in trainable), "total": sum(p.numel() for p in model.parameters()),
            "all_grads": all(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in trainable)}


def render_full() -> dict:
    """The reference renderer drawing 4,233,600 pixel-aligned Gaussians (49 frames x 240 x 360, the LaLRM's
    high-resolution output) at one 480 x 720 view, without gradients (the fly-through path)."""
    from wonderland.gaussians import pixel_aligned_gaussians
    from wonderland.geometry import ray_bundle
    from wonderland.render import render

    before = rss_mib()
    cams = orbit_cameras()
    small = cams.resize(240, 360).to(torch.float32)
    o, d = ray_bundle(small.c2w[0], small.K[0], 240, 360)  # (49, 240, 360, 3)
    g = torch.Generator().manual_seed(0)
    n = o.numel() // 3
    dist = 2.5 + torch.rand(n, generator=g)  # a surface ~3 units away, as the LaLRM's init_distance
    quats = torch.randn(n, 4, generator=g)
    gaussians = pixel_aligned_gaussians(o.reshape(-1, 3), d.reshape(-1, 3), dist, torch.rand(n, 3, generator=g),
                                        torch.full((n, 3), 0.01), quats, 0.05 + 0.9 * torch.rand(n, generator=g))
    del o, d, dist, quats
    built = rss_mib()
    t0 = time.perf_counter()
    with torch.no_grad():
        out = render(gaussians, cams[0, 24:25].to(torch.float32), 1.0, backend="reference")
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_mib": peak_mib(), "before_mib": before, "scene_mib": built - before,
            "render_extra_mib": peak_mib() - built, "num_gaussians": n, "shape": list(out.rgb.shape),
            "alpha_mean": float(out.alpha.mean()), "rgb_finite": bool(torch.isfinite(out.rgb).all())}
