"""ControlNet branch: a trainable copy of the first N CogVideoX blocks with zero-initialised outputs.

As diffusers' SD3 ControlNet does it (`from_transformer`): the blocks are the base's own `CogVideoXBlock`
class with its weights copied in, and each block's video-token output goes through a zero-initialised
linear. Residual i is added to the output of frozen main block i, so a fresh branch changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


class ControlBranch(nn.Module):
    def __init__(self, blocks: nn.ModuleList, dim: int):
        super().__init__()
        self.blocks = blocks
        self.zero_linears = nn.ModuleList(nn.Linear(dim, dim) for _ in blocks)
        for lin in self.zero_linears:
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    @classmethod
    def build(cls, num_blocks: int, dim: int, num_attention_heads: int, attention_head_dim: int, time_embed_dim: int,
              dropout: float, activation_fn: str, attention_bias: bool, norm_elementwise_affine: bool,
              norm_eps: float) -> ControlBranch:
        """N blocks of the base's geometry (as `CogVideoXTransformer3DModel` builds its own), randomly initialised."""
        from diffusers.models.transformers.cogvideox_transformer_3d import CogVideoXBlock

        blocks = nn.ModuleList(CogVideoXBlock(dim=dim, num_attention_heads=num_attention_heads,
                                              attention_head_dim=attention_head_dim, time_embed_dim=time_embed_dim,
                                              dropout=dropout, activation_fn=activation_fn,
                                              attention_bias=attention_bias,
                                              norm_elementwise_affine=norm_elementwise_affine, norm_eps=norm_eps)
                               for _ in range(num_blocks))
        return cls(blocks, dim)

    @torch.no_grad()
    def copy_blocks_from(self, transformer) -> None:
        """Load the first N blocks of a `CogVideoXTransformer3DModel` (before any LoRA is added to it)."""
        available = len(transformer.transformer_blocks)
        if not 0 < len(self.blocks) <= available:
            raise ValueError(f"num_control_blocks must be in 1..{available}, got {len(self.blocks)}")
        for mine, theirs in zip(self.blocks, transformer.transformer_blocks):
            if any(p.is_meta for p in theirs.parameters()):  # a dry run on `meta`: shapes only
                continue
            mine.load_state_dict(theirs.state_dict(), strict=True)

    def forward(self, hidden_states: Tensor, encoder_hidden_states: Tensor, temb: Tensor,
                image_rotary_emb: tuple[Tensor, Tensor] | None, attention_kwargs: dict | None,
                run: Callable = lambda f, *a: f(*a)) -> list[Tensor]:
        """(B, N, D) video tokens (+ ctrl camera tokens), (B, L, D) text -> N_blocks residuals (B, N, D).

        `run(fn, *args)` calls a block, directly or through gradient checkpointing (the wrapper decides).
        """
        residuals = []
        for block, zero in zip(self.blocks, self.zero_linears):
            hidden_states, encoder_hidden_states = run(block, hidden_states, encoder_hidden_states, temb,
                                                       image_rotary_emb, attention_kwargs)
            residuals.append(zero(hidden_states))
        return residuals
