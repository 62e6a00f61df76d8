"""A per-GPU training-memory estimate from exact parameter counts (for `trainer.dry_run`).

Weights: frozen base in bf16/fp16 under mixed precision (fp32 otherwise), trainable weights fp32.
Gradients fp32 and AdamW moments (2 x fp32, or 2 x 1 byte with 8-bit Adam) for trainable weights only.
Activations: with gradient checkpointing each block keeps its (video + text) input, and one block's
interior (about 20 token-width tensors: norms, q/k/v, attention output, 4x MLP) is live at a time.
No ZeRO sharding is assumed: with DeepSpeed ZeRO-2/3 divide gradients/optimizer (and weights for 3)
by the number of GPUs. Attention scores are not counted (fused SDPA does not materialise them).
"""

from __future__ import annotations

from wonderland.latents import NUM_FRAMES, num_latent_frames

ACT_TENSORS_PER_BLOCK = 20


def estimate_training_memory(counts: dict[str, int], config, cfg, micro_batch: int = 1) -> dict[str, int]:
    """Bytes per process for a micro-batch of `micro_batch` clips (the paper's recipe: 1 clip per GPU per micro-step,
    8 GPUs x 3 accumulation steps = the global batch of 24)."""
    t = cfg.trainer
    half = t.mixed_precision in ("bf16", "fp16")
    trainable, frozen = counts["trainable"], counts["total"] - counts["trainable"]
    width = config.num_attention_heads * config.attention_head_dim
    p = config.patch_size
    tokens = num_latent_frames(NUM_FRAMES) * (config.sample_height // p) * (config.sample_width // p) \
        + config.max_text_seq_length
    act = 2 if half else 4
    blocks = config.num_layers + cfg.model.camera.get("num_control_blocks", 21)
    per_block_io = micro_batch * tokens * width * act
    interior = per_block_io * ACT_TENSORS_PER_BLOCK
    activations = per_block_io * blocks + interior if t.gradient_checkpointing else interior * blocks
    out = {"weights": frozen * (2 if half else 4) + trainable * 4, "gradients": trainable * 4,
           "optimizer": trainable * (2 if cfg.optim.use_8bit_adam else 8), "activations": activations}
    out["total"] = sum(out.values())
    return out
