"""A per-GPU training-memory estimate from exact parameter counts (for `trainer.dry_run`).

Weights: frozen base in bf16/fp16 under mixed precision (fp32 otherwise), trainable weights fp32.
Gradients fp32 and AdamW moments (2 x fp32, or 2 x 1 byte with 8-bit Adam) for trainable weights only.
Activations: with gradient checkpointing each block keeps its (video + text) input, and one block's
interior (about 20 token-width tensors: norms, q/k/v, attention output, 4x MLP) is live at a time; outside
the blocks the patch embedding and the output head keep about 4 token-width tensors. Camera: the float32
Plücker map (F x 6 x H x W) and, per camera encoder (control and LoRA branch), what it keeps for backward:
its frame-grouped input (padded to 4T frames), its 8x-compressed grid at every layer, its tokens before and
after the projection; then the fuse's [video | camera] input. At full size: 1.5 GiB in bf16, 2.7 GiB in float32.
No ZeRO sharding is assumed: with DeepSpeed ZeRO-2/3 divide gradients/optimizer (and weights for 3)
by the number of GPUs. Attention scores are not counted (fused SDPA does not materialise them).
"""

from __future__ import annotations

from wonderland.latents import NUM_FRAMES, SPATIAL_COMPRESSION, TEMPORAL_COMPRESSION, num_latent_frames

from .models.camera_encoder import PLUCKER_CHANNELS
from .models.config import CameraControlConfig

ACT_TENSORS_PER_BLOCK = 20
ACT_TENSORS_OUTSIDE_BLOCKS = 4


def camera_activation_bytes(config, camera: CameraControlConfig, video_tokens: int, width: int, act: int) -> int:
    """What the camera path keeps for backward for one clip (module docstring)."""
    s, p = SPATIAL_COMPRESSION, config.patch_size
    t = num_latent_frames(NUM_FRAMES)
    h, w = config.sample_height, config.sample_width
    pixels = h * s * w * s
    channels, layers = camera.encoder_channels, camera.encoder_layers
    encoders = int(camera.num_control_blocks > 0) + int(camera.lora_rank > 0)
    per_encoder = (t * TEMPORAL_COMPRESSION * PLUCKER_CHANNELS * pixels  # grouped input, kept by the first conv
                   + channels * t * h * w * (1 + 2 * layers)  # the grid: compressed, then activation + conv per layer
                   + video_tokens * (2 * channels * p * p + width)) * act  # unfolded + normed tokens, projection
    fuse = 3 * video_tokens * width * act if camera.lora_rank else 0  # [video | camera] in, video out
    plucker = NUM_FRAMES * PLUCKER_CHANNELS * pixels * 4  # float32 whatever the autocast
    return plucker + encoders * per_encoder + fuse


def estimate_training_memory(counts: dict[str, int], config, cfg, micro_batch: int = 1) -> dict[str, int]:
    """Bytes per process for a micro-batch of `micro_batch` clips (the paper's recipe: 1 clip per GPU per micro-step,
    8 GPUs x 3 accumulation steps = the global batch of 24)."""
    t = cfg.trainer
    half = t.mixed_precision in ("bf16", "fp16")
    trainable, frozen = counts["trainable"], counts["total"] - counts["trainable"]
    width = config.num_attention_heads * config.attention_head_dim
    p = config.patch_size
    video_tokens = num_latent_frames(NUM_FRAMES) * (config.sample_height // p) * (config.sample_width // p)
    tokens = video_tokens + config.max_text_seq_length
    act = 2 if half else 4
    camera = CameraControlConfig(**cfg.model.camera)
    blocks = config.num_layers + camera.num_control_blocks
    per_block_io = micro_batch * tokens * width * act
    interior = per_block_io * ACT_TENSORS_PER_BLOCK
    activations = per_block_io * blocks + interior if t.gradient_checkpointing else interior * blocks
    activations += per_block_io * ACT_TENSORS_OUTSIDE_BLOCKS
    out = {"weights": frozen * (2 if half else 4) + trainable * 4, "gradients": trainable * 4,
           "optimizer": trainable * (2 if cfg.optim.use_8bit_adam else 8), "activations": activations,
           "camera": micro_batch * camera_activation_bytes(config, camera, video_tokens, width, act)}
    out["total"] = sum(out.values())
    return out
