"""Sizes of a LaLRM run computed without allocating: the `trainer.dry_run` report and the benchmark's FLOPs.

The model is built on the `meta` device (shapes only). Activation memory is an estimate per sample:
  backbone, bf16: a pre-LN block with fused (flash) attention keeps ~17 N x D values for backward
  (LN in/out 2, qkv 3, attention out 1, proj in 1, LN2 in/out 2, MLP hidden 4 + GELU 4) = 34 N D bytes;
  with gradient checkpointing only each block's input (2 N D bytes) is kept, plus one block recomputed.
  tokenizer, fp32: the Plücker map (F x 6 x H x W) and its padded copy.
  head + Gaussians, fp32: raw map (12), activated parameters (14 + means 3 + rays 6) ~ 35 values each.
Rasteriser buffers are not included: supervision uses the deferred (one view at a time) render path.
"""

from __future__ import annotations

import torch

from wonderland.latents import num_latent_frames

from .model import LaLRM


def transformer_flops(num_tokens: int, width: int, depth: int, mlp_ratio: int = 4) -> float:
    """Forward FLOPs of the backbone (matmuls: 2 per multiply-add; attention scores + weighted sum)."""
    n, d = num_tokens, width
    per_block = 2 * n * d * d * (3 + 1 + 2 * mlp_ratio) + 2 * 2 * n * n * d
    return float(depth * per_block)


def describe_stage(model_cfg: dict, num_frames: int, height: int, width: int) -> dict:
    """Parameters, tokens, Gaussians and activation-memory estimates (bytes) for one scene."""
    with torch.device("meta"):
        model = LaLRM(**model_cfg)
    t, ht, wt = model.token_grid(num_frames, height, width)
    hg, wg = model.gaussian_map_size(height, width)
    n, d, depth = t * ht * wt, model.config.width, model.config.depth
    gaussians = num_frames * hg * wg
    tokenizer = 2 * 4 * num_frames * 6 * height * width
    head = 4 * 35 * gaussians
    block = 34 * n * d
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "token_grid": (t, ht, wt), "tokens": n, "gaussian_map": (num_frames, hg, wg), "gaussians": gaussians,
        "latent_frames": num_latent_frames(num_frames),
        "activation_bytes": tokenizer + head + depth * block,
        "activation_bytes_checkpointed": tokenizer + head + depth * 2 * n * d + block,
        "forward_tflop": transformer_flops(n, d, depth, model.config.mlp_ratio) / 1e12,
    }


def format_report(name: str, info: dict) -> str:
    gib = 2**30
    return "\n".join([
        f"LaLRM dry run, stage {name}",
        f"  parameters            {info['parameters']:,}",
        f"  tokens per scene      {info['tokens']:,}  (grid {info['token_grid']})",
        f"  Gaussians per scene   {info['gaussians']:,}  (map {info['gaussian_map']})",
        f"  activations / sample  {info['activation_bytes'] / gib:.1f} GiB "
        f"({info['activation_bytes_checkpointed'] / gib:.1f} GiB with gradient checkpointing; estimate)",
        f"  backbone forward      {info['forward_tflop']:.1f} TFLOP",
    ])
