"""One GPU check: run it on one H200 (about 8 minutes, random weights, nothing downloaded) whenever a GPU is
available, and put the numbers in the README ("Full size on a GPU").

    python scripts/gpu_check.py --out gpu_check.json                   # CUDA, full size
    python scripts/gpu_check.py --device cpu --tiny --out check.json   # the same code at test size, on a CPU

Writes one JSON (atomically) with a section per check, each its wall time, peak memory and its numbers:
  render_parity   gsplat vs the reference renderer, forward (rgb, alpha, depth) and gradients (5 fields)
  lalrm           the full LaLRM, bf16 autocast, forward + backward at 17,550 tokens (4,233,600 Gaussians),
                  gradient checkpointing off and on: time, peak memory, achieved TFLOP/s against the
                  backbone's analytic 40.9 TFLOP forward (x3 for forward + backward, x4 with recomputation)
  denoise_step    one denoising step of the camera model (CFG batch 2, 17,776 tokens), with the 21-block
                  control branch and without it (LoRA branch only): time, peak memory, TFLOP/s
  offload         peak memory of a whole product run (1 denoising step, VAE tiling on, LaLRM, no fly-through;
                  the product's per-stage peaks)
                  under --offload none / model / sequential
A check that fails records its error and the others still run. On a CPU (--device cpu) the CUDA-only checks
(gsplat, offload modes) record why they were skipped; peak memory there is the process's peak RSS so far.
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 8 * 60
LALRM_TINY = dict(width=64, depth=2, num_heads=4, patch_size=2, head_stride=8)


def sizes(tiny: bool) -> dict:
    import yaml

    from camera_video.models import BASE_5B_I2V, BASE_TINY, CameraControlConfig
    from wonderland.vae import TINY_VAE_CONFIG

    if tiny:  # the test twins: every stage exists, seconds on a CPU (the LaLRM on a 9-frame clip)
        return {"video": (49, 32, 48), "lalrm_video": (9, 32, 48), "base": BASE_TINY, "control": 1, "lora_rank": 4,
                "encoder": (8, 1), "lalrm": LALRM_TINY,
                "vae": {**TINY_VAE_CONFIG, "sample_height": 32, "sample_width": 48}, "render": (3000, 96, 128),
                "camera_cls": CameraControlConfig}
    lalrm = yaml.safe_load((ROOT / "configs" / "lalrm" / "model" / "full.yaml").read_text())
    return {"video": (49, 480, 720), "lalrm_video": (49, 480, 720), "base": BASE_5B_I2V, "control": 21,
            "lora_rank": 256, "encoder": (128, 2), "lalrm": lalrm,
            "vae": {"scaling_factor": 0.7, "sample_height": 480, "sample_width": 720},
            "render": (200_000, 480, 720), "camera_cls": CameraControlConfig}


class Meter:
    """Wall time (CUDA-synchronised) and peak memory of a block: torch.cuda's peak allocation, or on a CPU the
    process's peak resident set so far (ru_maxrss)."""

    def __init__(self, device: torch.device):
        self.device = device

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    @contextmanager
    def measure(self, out: dict, prefix: str = ""):
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(self.device)
        self.sync()
        t0 = time.perf_counter()
        yield
        self.sync()
        out[prefix + "seconds"] = time.perf_counter() - t0
        out[prefix + "peak_gib"] = (torch.cuda.max_memory_allocated(self.device) if self.device.type == "cuda"
                                    else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024) / 2**30


def check_render_parity(device: torch.device, size: dict, meter: Meter) -> dict:
    """gsplat against the reference on a random scene: forward differences and gradient agreement."""
    from wonderland.gaussians import Gaussians
    from wonderland.geometry import Cameras, K_from_fov, look_at
    from wonderland.render import render
    from wonderland.render.gsplat_backend import gsplat_available

    if not gsplat_available():
        return {"skipped": "gsplat needs a CUDA device and the gsplat package (pip install 'wonderland[cuda]')"}
    num, h, w = size["render"]
    g = torch.Generator(device=device).manual_seed(0)
    rand = lambda *s: torch.rand(*s, generator=g, device=device)  # noqa: E731
    scene = [torch.randn(num, 3, generator=g, device=device), torch.randn(num, 4, generator=g, device=device),
             0.01 + 0.07 * rand(num, 3), 0.1 + 0.85 * rand(num), rand(num, 3)]
    angles = torch.tensor([0.0, 2.0], dtype=torch.float64)
    eye = torch.stack([4 * angles.sin(), -0.5 * torch.ones(2, dtype=torch.float64), -4 * angles.cos()], -1)
    cams = Cameras(look_at(eye, torch.zeros_like(eye)), K_from_fov(45, h, w).expand(2, 3, 3), h, w).to(device,
                                                                                                       torch.float32)
    weights = [rand(2, c, h, w) for c in (3, 1, 1)]
    out, results = {}, {}
    for backend in ("reference", "gsplat"):
        params = [p.clone().requires_grad_() for p in scene]
        with meter.measure(out, f"{backend}_"):
            r = render(Gaussians(*params), cams, 0.5, backend=backend)
            outputs = (r.rgb, r.alpha, r.depth / 4.0)
            sum((x * wt).sum() for x, wt in zip(outputs, weights)).backward()
        results[backend] = ([x.detach() for x in outputs], [p.grad for p in params])
    (ref_out, ref_grad), (gs_out, gs_grad) = results["reference"], results["gsplat"]
    for name, a, b in zip(("rgb", "alpha", "depth"), ref_out, gs_out):
        diff = (a - b).abs()
        out[f"{name}_mean_abs_diff"], out[f"{name}_max_abs_diff"] = diff.mean().item(), diff.max().item()
    for name, a, b in zip(("means", "quats", "scales", "opacities", "colors"), ref_grad, gs_grad):
        out[f"grad_{name}_cosine"] = torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), dim=0).item()
        out[f"grad_{name}_relative_diff"] = ((a - b).norm() / b.norm()).item()
    out["gaussians"], out["views"] = num, 2
    return out


def check_lalrm(device: torch.device, size: dict, meter: Meter, repeats: int = 2) -> dict:
    from lalrm import LaLRM
    from lalrm.sizes import describe_stage, transformer_flops
    from wonderland.geometry import Cameras, K_from_fov, look_at

    f, h, w = size["lalrm_video"]
    info = describe_stage(size["lalrm"], f, h, w)
    flops = transformer_flops(info["tokens"], size["lalrm"]["width"], size["lalrm"]["depth"])
    angles = torch.linspace(0, 0.6, f, dtype=torch.float64)
    eyes = torch.stack([3 * angles.sin(), torch.zeros_like(angles), -3 * angles.cos()], -1)
    cams = Cameras(look_at(eyes, torch.zeros_like(eyes))[None], K_from_fov(50.0, h, w), h, w).to(device)
    latents = torch.randn(1, 16, info["latent_frames"], h // 8, w // 8, device=device)
    out = {"tokens": info["tokens"], "gaussians": info["gaussians"], "parameters": info["parameters"],
           "forward_tflop": flops / 1e12}
    for checkpointing in (False, True):
        torch.manual_seed(0)
        model = LaLRM(**size["lalrm"]).to(device).train()
        if checkpointing:
            model.enable_gradient_checkpointing()

        def step(model=model):
            # bf16 on the GPU; float32 on a CPU (most CPUs emulate bf16 matmuls, ~100x slower)
            with torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda"):
                res = model(latents, cams)
            g = res.gaussians
            (g.means.square().mean() + g.colors.mean() + g.opacities.mean() + res.distance.mean()).backward()
            model.zero_grad(set_to_none=True)

        step()  # warm-up
        key = "checkpointing_on_" if checkpointing else "checkpointing_off_"
        r: dict = {}
        with meter.measure(r):
            for _ in range(repeats):
                step()
        seconds = r["seconds"] / repeats
        done = flops * (4 if checkpointing else 3)  # forward + backward (2x), + recomputed forward
        out |= {key + "step_seconds": seconds, key + "peak_gib": r["peak_gib"],
                key + "achieved_tflops": done / seconds / 1e12}
        del model
    return out


def build_camera_model(size: dict, control: int, device: torch.device, dtype: torch.dtype):
    from camera_video.models import build_camera_transformer

    channels, layers = size["encoder"]
    camera = size["camera_cls"](num_control_blocks=control, lora_rank=size["lora_rank"], encoder_channels=channels,
                                encoder_layers=layers)
    with torch.device(device):
        return build_camera_transformer(camera, size["base"], dtype=dtype).eval()


def check_denoise_step(device: torch.device, size: dict, meter: Meter, dtype: torch.dtype) -> dict:
    from camera_video.models import rotary_embedding

    f, h, w = size["video"]
    out = {}
    for name, control in (("with_control", size["control"]), ("without_control", 0)):
        model = build_camera_model(size, control, device, dtype)
        c = model.config
        t = 13
        x = torch.randn(2, t, 32, h // 8, w // 8, device=device, dtype=dtype)
        text = torch.randn(2, c.max_text_seq_length, c.text_embed_dim, device=device, dtype=dtype)
        plucker = torch.randn(2, f, 6, h, w, device=device, dtype=dtype)
        rope = rotary_embedding(c, t, h // 8, w // 8, device)
        steps = torch.tensor([500, 500], device=device)
        width = c.num_attention_heads * c.attention_head_dim
        n = t * (h // 8 // c.patch_size) * (w // 8 // c.patch_size) + c.max_text_seq_length
        flops = 2 * (2 * n * 12 * width * width + 4 * n * n * width) * (c.num_layers + control)  # batch 2

        @torch.no_grad()
        def step(model=model, x=x, text=text, plucker=plucker, rope=rope, steps=steps):
            model(x, text, steps, plucker=plucker, image_rotary_emb=rope)

        step()
        r: dict = {}
        with meter.measure(r):
            step()
        out[name] = {"blocks": c.num_layers + control, "tokens": n, "step_seconds": r["seconds"],
                     "peak_gib": r["peak_gib"], "tflop": flops / 1e12, "achieved_tflops": flops / r["seconds"] / 1e12}
        del model
    out["time_ratio_with_over_without"] = out["with_control"]["step_seconds"] / out["without_control"]["step_seconds"]
    return out


def check_offload(device: torch.device, size: dict, meter: Meter, dtype: torch.dtype) -> dict:
    """A whole product run (image -> 1 denoising step -> decoded video -> Gaussians) per offload option."""
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDPMScheduler

    from camera_video.models import SCHEDULER_5B_I2V
    from camera_video.pipeline import CameraVideoPipeline
    from lalrm import LaLRM
    from wonderland.pipeline import WonderlandPipeline
    from wonderland.pipeline.manifest import Manifest
    from wonderland.trajectories import make_preset

    f, h, w = size["video"]
    out = {}
    for offload in ("none", "model", "sequential"):
        if offload != "none" and device.type != "cuda":
            out[offload] = {"skipped": "offloading needs a CUDA device"}
            continue
        transformer = build_camera_model(size, size["control"], device, dtype)
        with torch.device(device):
            vae = AutoencoderKLCogVideoX(**size["vae"]).to(dtype).eval()
            lalrm = LaLRM(**size["lalrm"]).eval()
        video = CameraVideoPipeline(vae, transformer, CogVideoXDPMScheduler(**SCHEDULER_5B_I2V))
        tiling = h >= 240  # diffusers' tiles are 240 x 360: the test size is a single tile and cannot be tiled
        if tiling:
            video.enable_vae_tiling()
        video.set_progress_bar_config(disable=True)
        if offload == "none":
            video.to(device)
        else:
            video.to("cpu")
            getattr(video, "enable_model_cpu_offload" if offload == "model" else "enable_sequential_cpu_offload")(
                device=device)
        c = transformer.config
        embeds = {k: torch.randn(1, c.max_text_seq_length, c.text_embed_dim, device=device, dtype=dtype)
                  for k in ("prompt_embeds", "negative_prompt_embeds")}
        manifest = Manifest(ROOT, "random", ROOT / "none", ROOT / "none", ROOT / "none", ROOT / "none", None, h, w, f,
                            defaults={"num_inference_steps": 1, "guidance_scale": 6.0})
        pipe = WonderlandPipeline(video, lalrm.to(device), manifest, embeds)
        r: dict = {}
        with meter.measure(r):
            result = pipe(torch.rand(3, h, w), make_preset("orbit", f, h, w), seed=0)
        # The product's own per-stage peaks (it resets the CUDA peak at each stage): the run's peak is their max.
        stages = {k: round(v.peak_memory_mb / 1024, 3) for k, v in result.stats.items()}
        out[offload] = {"run_seconds": r["seconds"], "peak_gib": max(stages.values()), "stage_peak_gib": stages,
                        "vae_tiling": tiling, "gaussians": int(result.gaussians.means.shape[0])}
        del pipe, video, transformer, vae, lalrm, result
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("gpu_check.json"))
    p.add_argument("--device", default="cuda")
    p.add_argument("--tiny", action="store_true", help="test-size models (a rehearsal; what tests run on a CPU)")
    p.add_argument("--only", nargs="*", choices=("render_parity", "lalrm", "denoise_step", "offload"))
    args = p.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; use --device cpu --tiny for the rehearsal", file=sys.stderr)
        return 2
    import diffusers

    from wonderland.io import write_json

    size, meter = sizes(args.tiny), Meter(device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    report = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
              "size": "tiny" if args.tiny else "full", "dtype": str(dtype).removeprefix("torch."),
              "versions": {"torch": torch.__version__, "diffusers": diffusers.__version__,
                           "python": platform.python_version()}}
    checks = {"render_parity": lambda: check_render_parity(device, size, meter),
              "lalrm": lambda: check_lalrm(device, size, meter),
              "denoise_step": lambda: check_denoise_step(device, size, meter, dtype),
              "offload": lambda: check_offload(device, size, meter, dtype)}
    t0 = time.perf_counter()
    for name, fn in checks.items():
        if args.only and name not in args.only:
            continue
        start = time.perf_counter()
        try:
            report[name] = fn()
        except Exception as e:  # noqa: BLE001 (recorded; the other checks still run)
            report[name] = {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc(limit=3)}
        report[name]["wall_seconds"] = time.perf_counter() - start
        print(f"gpu_check: {name} done in {report[name]['wall_seconds']:.1f} s", flush=True)
        write_json(args.out, report)  # after every check: a killed run keeps what it measured
    report["total_seconds"] = time.perf_counter() - t0
    report["within_budget"] = report["total_seconds"] <= BUDGET_S
    write_json(args.out, report)
    print(f"gpu_check: wrote {args.out} ({report['total_seconds']:.0f} s)")
    return 0 if not any("error" in v for v in report.values() if isinstance(v, dict)) else 1


if __name__ == "__main__":
    sys.exit(main())
