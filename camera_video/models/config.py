"""Configurations: the CogVideoX-5B-I2V transformer, a tiny twin for tests, and the camera branches.

A model's config is its constructor arguments: `BASE_5B_I2V` is exactly the `config.json` of the
released `transformer/` folder (the keys that differ from diffusers' defaults), and
`CameraControlConfig` is what `CameraVideoTransformer` adds on top of a base.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# CogVideoX-5B-I2V (THUDM/CogVideoX-5b-I2V, transformer/config.json): 42 blocks, 48 heads x 64 = 3072.
BASE_5B_I2V: dict = dict(
    num_attention_heads=48, attention_head_dim=64, in_channels=32, out_channels=16, flip_sin_to_cos=True,
    freq_shift=0, time_embed_dim=512, text_embed_dim=4096, num_layers=42, dropout=0.0, attention_bias=True,
    sample_width=90, sample_height=60, sample_frames=49, patch_size=2, temporal_compression_ratio=4,
    max_text_seq_length=226, activation_fn="gelu-approximate", timestep_activation_fn="silu",
    norm_elementwise_affine=True, norm_eps=1e-5, spatial_interpolation_scale=1.875,
    temporal_interpolation_scale=1.0, use_rotary_positional_embeddings=True,
    use_learned_positional_embeddings=True,
)

# The tiny twin used by tests and the CPU benchmark. Why each size cannot be smaller:
# - attention_head_dim 16: CogVideoX RoPE splits a head into t/h/w parts of dim/4, 3dim/8, 3dim/8,
#   each of which must be even (16 -> 4, 6, 6).
# - 4 heads (width 64): proj_out maps width -> 2*2*16 = 64 values per token; it is frozen, so a
#   narrower width would confine every prediction to a fixed subspace and cap what training can reach.
# - num_layers 2: one control block plus one main block without a control residual, so both paths run.
# - 4 x 6 latents (video 32 x 48): a 2 x 3 token grid after the 2 x 2 patch, the smallest that is not
#   square, so height/width mix-ups in the camera tokens cannot cancel out.
# - max_text_seq_length 8 and text_embed_dim 16: text tokens only need to exist; the learned
#   positional embedding forces the text length to equal max_text_seq_length.
BASE_TINY: dict = {
    **BASE_5B_I2V, "num_attention_heads": 4, "attention_head_dim": 16, "time_embed_dim": 16,
    "text_embed_dim": 16, "num_layers": 2, "sample_width": 6, "sample_height": 4, "max_text_seq_length": 8,
}

# A small base for CPU-trained families (the bundled demo): BASE_TINY's structure with heads 2x wider, 4 blocks
# and a 1 x 1 patch, so each of the 13 x 4 x 6 latent positions is a token (a 2 x 2 patch leaves a 2 x 3 grid,
# too coarse for a camera to move content on). About 1 M parameters, 312 video tokens.
BASE_SMALL: dict = {**BASE_TINY, "num_attention_heads": 4, "attention_head_dim": 32, "time_embed_dim": 32,
                    "num_layers": 4, "patch_size": 1}

# The I2V model's sampler/training scheduler (scheduler/scheduler_config.json of CogVideoX-5B-I2V).
SCHEDULER_5B_I2V: dict = dict(
    num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
    clip_sample=False, set_alpha_to_one=True, steps_offset=0, prediction_type="v_prediction",
    rescale_betas_zero_snr=True, timestep_spacing="trailing", snr_shift_scale=1.0,
)

LORA_TARGETS: tuple[str, ...] = ("to_q", "to_k", "to_v", "to_out.0")


@dataclass
class CameraControlConfig:
    """What the camera branches add to a base transformer (the paper's ablations are values here).

    num_control_blocks: trainable copies of the first N base blocks (0 = no control branch).
    lora_rank: rank of the camera-LoRA on the main blocks' attention projections (0 = no LoRA branch).
    encoder_channels / encoder_layers: width and number of 3x3x3 convolutions of each camera encoder.
    """

    num_control_blocks: int = 21
    lora_rank: int = 256
    lora_alpha: float | None = None  # None: alpha = rank (LoRA scale 1)
    lora_targets: tuple[str, ...] = LORA_TARGETS
    encoder_channels: int = 128
    encoder_layers: int = 2

    def __post_init__(self):
        self.lora_targets = tuple(self.lora_targets)
        if self.num_control_blocks < 0 or self.lora_rank < 0:
            raise ValueError(f"num_control_blocks and lora_rank must be >= 0, got {self}")
        if self.num_control_blocks == 0 and self.lora_rank == 0:
            raise ValueError("at least one camera branch is needed (num_control_blocks > 0 or lora_rank > 0)")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["lora_targets"] = list(self.lora_targets)
        return d
