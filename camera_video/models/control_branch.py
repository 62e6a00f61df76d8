"""ControlNet branch: a trainable copy of the first N CogVideoX blocks with zero-initialised outputs.

As diffusers' SD3 ControlNet does it (`from_transformer`): the blocks are deep copies of the base's
own `CogVideoXBlock`s (same class, same weights), and each block's video-token output goes through a
zero-initialised linear. Residual i is added to the output of frozen main block i, so a fresh branch
changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

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
    def from_transformer(cls, transformer, num_blocks: int) -> ControlBranch:
        """Copy the first `num_blocks` blocks of a `CogVideoXTransformer3DModel` (before any LoRA is added)."""
        available = len(transformer.transformer_blocks)
        if not 0 < num_blocks <= available:
            raise ValueError(f"num_control_blocks must be in 1..{available}, got {num_blocks}")
        blocks = nn.ModuleList(copy.deepcopy(transformer.transformer_blocks[i]) for i in range(num_blocks))
        dim = transformer.config.num_attention_heads * transformer.config.attention_head_dim
        return cls(blocks, dim).to(dtype=transformer.dtype)

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
