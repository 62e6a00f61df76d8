"""Camera-video benchmark: `bench_camera_video()` and `bench_camera_overhead()` (scripts/benchmark.py camera_video).

CPU: tiny-model training steps/s and denoising steps/s (49 frames at 32 x 48, batch 2, latents given).
Overhead of the camera branches: one denoising step (CFG batch 2) of the dual-branch model against stock
diffusers `CogVideoXTransformer3DModel` of the same size, in one run, at a mid-size config (MID below):
as a per-step forward with the Plücker map (encoders every step, LoRA unfused) and as the sampler now runs it
(camera tokens computed once per run, camera-LoRA fused). FLOPs counted by torch's FlopCounterMode.
CUDA (skipped without one): the full CogVideoX-5B-I2V camera model with random weights in bf16 at
49 x 480 x 720: one denoising step (CFG batch 2) with and without the control branch -- time, peak
memory, achieved TFLOP/s (analytic FLOPs of the transformer) -- and one training step's peak memory with
gradient checkpointing.
"""

from __future__ import annotations

import time

import torch

from camera_video.loss import i2v_loss
from camera_video.models import (
    BASE_5B_I2V,
    BASE_TINY,
    SCHEDULER_5B_I2V,
    CameraControlConfig,
    build_camera_transformer,
    rotary_embedding,
)
from wonderland.latents import NUM_FRAMES, num_latent_frames

TINY_CAMERA = CameraControlConfig(num_control_blocks=1, lora_rank=4, encoder_channels=8, encoder_layers=1)
# Mid-size: 8 blocks of 8 heads x 64, 4 control blocks, LoRA rank 32, the full encoders; 160 x 240 video ->
# 13 x 10 x 15 = 1,950 video tokens (+ 226 text): every part of the full model, ~1/80 of its step on 2 threads.
MID = {**BASE_5B_I2V, "num_layers": 8, "num_attention_heads": 8, "sample_height": 20, "sample_width": 30}
MID_CAMERA = CameraControlConfig(num_control_blocks=4, lora_rank=32)


def _batch(config, batch: int, device, dtype=torch.float32) -> dict:
    t, h, w = num_latent_frames(NUM_FRAMES), config.sample_height, config.sample_width
    return {"latents": torch.randn(batch, 16, t, h, w, device=device),
            "image_latents": torch.randn(batch, 16, 1, h, w, device=device),
            "plucker": torch.randn(batch, NUM_FRAMES, 6, 8 * h, 8 * w, device=device, dtype=dtype),
            "prompt_embeds": torch.randn(batch, config.max_text_seq_length, config.text_embed_dim, device=device)}


def _timed(fn, repeats: int, sync=lambda: None) -> float:
    fn()  # warm-up
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    sync()
    return (time.perf_counter() - start) / repeats


def transformer_flops(config, num_control_blocks: int, batch: int) -> float:
    """Forward FLOPs: 2 x tokens x (block linear params) per block + attention (4 x N^2 x width) per block."""
    width = config.num_attention_heads * config.attention_head_dim
    p = config.patch_size
    n = num_latent_frames(NUM_FRAMES) * (config.sample_height // p) * (config.sample_width // p) \
        + config.max_text_seq_length
    linear = 4 * width * width + 2 * 4 * width * width  # q, k, v, out + 4x MLP (norm modulations are small)
    per_block = 2 * n * linear + 4 * n * n * width
    return batch * per_block * (config.num_layers + num_control_blocks)


def bench_cpu(steps: int = 10) -> dict:
    from diffusers import CogVideoXDPMScheduler

    torch.manual_seed(0)
    model = build_camera_transformer(TINY_CAMERA, BASE_TINY)
    sched = CogVideoXDPMScheduler(**SCHEDULER_5B_I2V)
    batch = _batch(model.config, 2, "cpu")
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def train_step():
        i2v_loss(model, sched, batch, torch.Generator().manual_seed(0)).backward()
        opt.step()
        opt.zero_grad()

    t, h, w = batch["latents"].shape[2:]
    rope = rotary_embedding(model.config, t, h, w)
    x = torch.randn(2, t, 32, h, w)

    @torch.no_grad()
    def denoise_step():
        model(x, batch["prompt_embeds"], torch.tensor([500, 500]), plucker=batch["plucker"], image_rotary_emb=rope)

    return {"tiny_train_steps_per_s": 1 / _timed(train_step, steps),
            "tiny_denoise_steps_per_s": 1 / _timed(denoise_step, steps)}


def bench_cuda() -> dict:
    device, dtype = torch.device("cuda"), torch.bfloat16
    sync = torch.cuda.synchronize
    out = {}
    for name, blocks in (("dual_21_blocks", 21), ("lora_only", 0)):
        camera = CameraControlConfig(num_control_blocks=blocks, lora_rank=256)
        with torch.device(device):
            model = build_camera_transformer(camera, BASE_5B_I2V, dtype=dtype).eval()
        c = model.config
        batch = _batch(c, 2, device, dtype)  # CFG: the two halves in one batch
        t, h, w = batch["latents"].shape[2:]
        rope = rotary_embedding(c, t, h, w, device)
        x = torch.randn(2, t, 32, h, w, device=device, dtype=dtype)
        text = batch["prompt_embeds"].to(dtype)
        step = torch.tensor([500, 500], device=device)

        @torch.no_grad()
        def denoise(model=model, x=x, text=text, step=step, plucker=batch["plucker"], rope=rope):
            model(x, text, step, plucker=plucker, image_rotary_emb=rope)

        torch.cuda.reset_peak_memory_stats()
        seconds = _timed(denoise, 3, sync)
        out[name] = {"denoise_step_s": seconds, "peak_gib": torch.cuda.max_memory_allocated() / 2**30,
                     "tflops": transformer_flops(c, blocks, 2) / seconds / 1e12}
        if blocks:
            from diffusers import CogVideoXDPMScheduler

            sched = CogVideoXDPMScheduler(**SCHEDULER_5B_I2V)
            model.train().enable_gradient_checkpointing()
            for p in model.parameters():
                if p.requires_grad:
                    p.data = p.data.float()
            torch.cuda.reset_peak_memory_stats()
            with torch.autocast("cuda", dtype):
                i2v_loss(model, sched, {k: v[:1] for k, v in batch.items()}).backward()
            sync()
            out[name]["train_step_peak_gib_batch1_ckpt"] = torch.cuda.max_memory_allocated() / 2**30
        del model
        torch.cuda.empty_cache()
    return out


def bench_camera_overhead(repeats: int = 3) -> dict:
    """Seconds and FLOPs of one denoising step: stock vs dual branch (per-step encoders, unfused LoRA) vs dual
    branch as sampled (precomputed camera tokens, fused LoRA). Runs interleaved, best of `repeats`."""
    import copy

    from diffusers import CogVideoXTransformer3DModel
    from torch.utils.flop_counter import FlopCounterMode

    from camera_video.models import CameraVideoTransformer

    torch.manual_seed(0)
    stock = CogVideoXTransformer3DModel(**MID).eval()
    dual = CameraVideoTransformer(copy.deepcopy(stock), MID_CAMERA).eval()
    with torch.no_grad():  # as after training: every camera path live (a zero LoRA B would fuse to nothing)
        for name, p in dual.named_parameters():
            if p.requires_grad and ("lora_B" in name or "zero_linears" in name or ".proj." in name):
                p.normal_(0, 0.01)
    fused = copy.deepcopy(dual)
    fused.fuse_camera_lora()
    c, t = stock.config, num_latent_frames(NUM_FRAMES)
    x = torch.randn(2, t, 32, c.sample_height, c.sample_width)
    text = torch.randn(2, c.max_text_seq_length, c.text_embed_dim)
    plucker = torch.randn(1, NUM_FRAMES, 6, 8 * c.sample_height, 8 * c.sample_width).expand(2, -1, -1, -1, -1)
    rope = rotary_embedding(c, t, c.sample_height, c.sample_width)
    step = torch.tensor([500, 500])
    with torch.no_grad():
        tokens = tuple(torch.cat([z, z]) for z in fused.camera_tokens(plucker[:1]))  # once per run, both halves
    variants = {"stock": lambda: stock(x, text, step, image_rotary_emb=rope),
                "dual_per_step": lambda: dual(x, text, step, plucker=plucker, image_rotary_emb=rope),
                "dual_as_sampled": lambda: fused(x, text, step, camera_tokens=tokens, image_rotary_emb=rope)}
    out = {name: {"seconds": float("inf")} for name in variants}
    with torch.no_grad():
        for name, fn in variants.items():
            with FlopCounterMode(display=False) as counter:
                fn()
            out[name]["gflop"] = counter.get_total_flops() / 1e9
        for _ in range(repeats):
            for name, fn in variants.items():
                start = time.perf_counter()
                fn()
                out[name]["seconds"] = min(out[name]["seconds"], time.perf_counter() - start)
    for name in ("dual_per_step", "dual_as_sampled"):
        out[name]["time_ratio"] = out[name]["seconds"] / out["stock"]["seconds"]
        out[name]["flop_ratio"] = out[name]["gflop"] / out["stock"]["gflop"]
    return out


def bench_camera_video() -> dict:
    results = {"cpu": bench_cpu()}
    print("camera_video (CPU, tiny):", {k: round(v, 2) for k, v in results["cpu"].items()})
    if torch.cuda.is_available():
        results["cuda"] = bench_cuda()
        for name, r in results["cuda"].items():
            print(f"camera_video (CUDA, full, {name}):", {k: round(v, 3) for k, v in r.items()})
    else:
        print("camera_video: no CUDA device, full-model section skipped")
    return results


def print_camera_overhead() -> dict:
    out = bench_camera_overhead()
    tokens = num_latent_frames(NUM_FRAMES) * (MID["sample_height"] // 2) * (MID["sample_width"] // 2)
    print(f"camera overhead, one denoising step (CFG batch 2), {MID['num_layers']} blocks of "
          f"{MID['num_attention_heads']} x 64, {MID_CAMERA.num_control_blocks} control blocks, LoRA rank "
          f"{MID_CAMERA.lora_rank}, {tokens:,} video tokens, {torch.get_num_threads()} threads:")
    for name, r in out.items():
        ratios = f"  time ratio {r['time_ratio']:.2f}  FLOP ratio {r['flop_ratio']:.3f}" if "time_ratio" in r else ""
        print(f"  {name:<16} {r['seconds'] * 1e3:8.0f} ms  {r['gflop']:8.1f} GFLOP{ratios}")
    return out


if __name__ == "__main__":
    bench_camera_video()
