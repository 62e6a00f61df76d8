"""VideoRFSplat's pose stream (SPEC.md section 8): a small DiT over Plücker ray maps, side-attached to the video model.

`PoseStream` generates one Plücker ray map (6 channels: [o x d, d]) per *latent* frame at latent resolution,
(B, T, 6, h, w); `wonderland.geometry.cameras_from_plucker` turns each map back into a camera. It is the
video model's DiT design at a small width (full: hidden 256, patch 2, 4 heads, 16 blocks; diffusers'
`CogVideoXBlock`s, so text and pose tokens attend jointly as in the video model), trained from scratch, with
its own timestep embedding and the video model's text embedding (the same T5 tokens, projected to its width).
Positions: diffusers' 3D sin-cos embedding (no learned table, so any latent size works).

`CommunicationBlock`s join the streams: after every `comm_every` video blocks and every pose block, none
after the last block of either stream (so `min((L - 1) // comm_every, P - 1)` blocks for L video and P pose
blocks; `comm_schedule`). Each side enters as Linear(its tokens) concatenated (channels) with Linear(its own
timestep embedding); video queries attend to pose tokens and pose queries to video tokens; each result goes
through a zero-initialised output Linear and is added to its stream. At initialisation the video stream's
output is therefore unchanged, bit for bit (tests/camera_video/test_pose_stream.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import Tensor, nn

POSE_CHANNELS = 6  # Plücker [o x d, d]


@dataclass
class PoseStreamConfig:
    """The pose stream's sizes (full = SPEC.md section 8; `configs/camera_video/model/*.yaml` `pose:`)."""

    hidden: int = 256
    patch: int = 2
    heads: int = 4
    blocks: int = 16
    comm_every: int = 3  # video blocks per communication block
    comm_dim: int = 128  # width of each side's Linear(h) and Linear(t) before concatenation (attention: 2x)
    comm_heads: int = 4

    def __post_init__(self):
        for k in ("hidden", "patch", "heads", "blocks", "comm_every", "comm_dim", "comm_heads"):
            if getattr(self, k) < 1:
                raise ValueError(f"pose.{k} must be >= 1, got {getattr(self, k)}")
        if self.hidden % self.heads or self.hidden % 16:
            raise ValueError(f"pose.hidden ({self.hidden}) must be a multiple of pose.heads and of 16 (3D sin-cos)")
        if (2 * self.comm_dim) % self.comm_heads:
            raise ValueError(f"2 * pose.comm_dim ({2 * self.comm_dim}) must be a multiple of pose.comm_heads")

    def to_dict(self) -> dict:
        return asdict(self)


def comm_schedule(video_blocks: int, pose_blocks: int, comm_every: int) -> list[tuple[int, int]]:
    """(video block, pose block) after which each communication block runs: video blocks comm_every - 1,
    2 comm_every - 1, ... paired with pose blocks 0, 1, ...; none after the last block of either stream."""
    n = min((video_blocks - 1) // comm_every, pose_blocks - 1)
    return [((k + 1) * comm_every - 1, k) for k in range(max(n, 0))]


class CommunicationBlock(nn.Module):
    """Bidirectional cross-attention between video tokens (B, Nv, Dv) and pose tokens (B, Nr, Dr)."""

    def __init__(self, video_dim: int, video_time_dim: int, pose_dim: int, pose_time_dim: int, comm_dim: int,
                 heads: int):
        super().__init__()
        width = 2 * comm_dim
        self.video_h, self.video_t = nn.Linear(video_dim, comm_dim), nn.Linear(video_time_dim, comm_dim)
        self.pose_h, self.pose_t = nn.Linear(pose_dim, comm_dim), nn.Linear(pose_time_dim, comm_dim)
        self.video_norm, self.pose_norm = nn.LayerNorm(video_dim), nn.LayerNorm(pose_dim)
        self.video_from_pose = nn.MultiheadAttention(width, heads, batch_first=True)
        self.pose_from_video = nn.MultiheadAttention(width, heads, batch_first=True)
        self.video_out, self.pose_out = nn.Linear(width, video_dim), nn.Linear(width, pose_dim)
        for out in (self.video_out, self.pose_out):  # zero: the streams start independent
            nn.init.zeros_(out.weight)
            nn.init.zeros_(out.bias)

    @staticmethod
    def _side(h: Tensor, t: Tensor, norm: nn.LayerNorm, lin_h: nn.Linear, lin_t: nn.Linear) -> Tensor:
        x = lin_h(norm(h))
        return torch.cat([x, lin_t(t)[:, None].expand_as(x).to(x.dtype)], -1)

    def forward(self, video: Tensor, video_temb: Tensor, pose: Tensor, pose_temb: Tensor) -> tuple[Tensor, Tensor]:
        """video (B, Nv, Dv), video_temb (B, Dtv), pose (B, Nr, Dr), pose_temb (B, Dtr) -> updated (video, pose)."""
        v = self._side(video, video_temb, self.video_norm, self.video_h, self.video_t)
        r = self._side(pose, pose_temb, self.pose_norm, self.pose_h, self.pose_t)
        v_new = self.video_from_pose(v, r, r, need_weights=False)[0]
        r_new = self.pose_from_video(r, v, v, need_weights=False)[0]
        return video + self.video_out(v_new), pose + self.pose_out(r_new)


class PoseStream(ModelMixin, ConfigMixin):
    """The pose DiT and its communication blocks with a video transformer of `video_blocks` blocks of width
    `video_dim` (time embedding `video_time_dim`, text tokens of width `text_dim`)."""

    config_name = "config.json"

    @register_to_config
    def __init__(self, video_dim: int, video_time_dim: int, video_blocks: int, text_dim: int, hidden: int = 256,
                 patch: int = 2, heads: int = 4, blocks: int = 16, comm_every: int = 3, comm_dim: int = 128,
                 comm_heads: int = 4):
        super().__init__()
        from diffusers.models.embeddings import TimestepEmbedding, Timesteps
        from diffusers.models.normalization import AdaLayerNorm
        from diffusers.models.transformers.cogvideox_transformer_3d import CogVideoXBlock

        PoseStreamConfig(hidden, patch, heads, blocks, comm_every, comm_dim, comm_heads)  # validates
        self.time_proj = Timesteps(hidden, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(hidden, hidden)
        self.patch_embed = nn.Linear(POSE_CHANNELS * patch * patch, hidden)
        self.text_proj = nn.Linear(text_dim, hidden)
        self.pose_blocks = nn.ModuleList(CogVideoXBlock(hidden, heads, hidden // heads, hidden) for _ in range(blocks))
        self.norm_out = AdaLayerNorm(hidden, chunk_dim=1, output_dim=2 * hidden)
        self.proj_out = nn.Linear(hidden, POSE_CHANNELS * patch * patch)
        self.schedule = comm_schedule(video_blocks, blocks, comm_every)
        self.comm = nn.ModuleList(CommunicationBlock(video_dim, video_time_dim, hidden, hidden, comm_dim, comm_heads)
                                  for _ in self.schedule)

    @classmethod
    def for_video(cls, base_config, pose: PoseStreamConfig) -> PoseStream:
        """A pose stream for a CogVideoX transformer config (`CameraVideoTransformer.config`)."""
        c = base_config
        return cls(c.num_attention_heads * c.attention_head_dim, c.time_embed_dim, c.num_layers, c.text_embed_dim,
                   **pose.to_dict())

    # ---- the stream's phases (the video transformer interleaves them with its blocks) -----------------
    def embed(self, rays: Tensor, t: Tensor, text: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """rays (B, T, 6, h, w) noisy ray maps, t (B,) normalised time in [0, 1], text (B, L, text_dim)
        -> pose tokens (B, T h w / p^2, hidden), pose text tokens (B, L, hidden), time embedding (B, hidden)."""
        from diffusers.models.embeddings import get_3d_sincos_pos_embed

        b, f, c, h, w = rays.shape
        p = self.config.patch
        if h % p or w % p:
            raise ValueError(f"ray maps of {h}x{w} cannot be cut in {p}x{p} patches")
        x = rays.reshape(b, f, c, h // p, p, w // p, p).permute(0, 1, 3, 5, 2, 4, 6).flatten(4).flatten(1, 3)
        pos = get_3d_sincos_pos_embed(self.config.hidden, (w // p, h // p), f, device=rays.device)  # (f, hw, D)
        tokens = self.patch_embed(x) + pos.flatten(0, 1).to(x.dtype)
        temb = self.time_embedding(self.time_proj(t * 1000).to(tokens.dtype))  # the video's timestep scale
        return tokens, self.text_proj(text.to(tokens.dtype)), temb

    def head(self, tokens: Tensor, temb: Tensor, shape: tuple[int, ...]) -> Tensor:
        """Pose tokens -> prediction (B, T, 6, h, w) (the flow-matching velocity)."""
        b, f, c, h, w = shape
        p = self.config.patch
        x = self.proj_out(self.norm_out(tokens, temb=temb))
        x = x.reshape(b, f, h // p, w // p, c, p, p).permute(0, 1, 4, 2, 5, 3, 6)
        return x.reshape(b, f, c, h, w)

    def forward_alone(self, rays: Tensor, t: Tensor, text: Tensor) -> Tensor:
        """The pose stream without the video (no communication): (B, T, 6, h, w) -> (B, T, 6, h, w)."""
        tokens, text, temb = self.embed(rays, t, text)
        for k in range(len(self.pose_blocks)):
            tokens, text = self.pose_blocks[k](tokens, text, temb)
        return self.head(tokens, temb, tuple(rays.shape))


__all__ = ["POSE_CHANNELS", "CommunicationBlock", "PoseStream", "PoseStreamConfig", "comm_schedule"]
