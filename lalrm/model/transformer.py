"""GS-LRM-style backbone: pre-LayerNorm blocks, fused scaled-dot-product attention, MLP x4.

No positional embedding: every token already carries its rays (the Plücker pose tokens).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class Block(nn.Module):
    def __init__(self, width: int, num_heads: int, mlp_ratio: int = 4):
        super().__init__()
        if width % num_heads:
            raise ValueError(f"width {width} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, mlp_ratio * width), nn.GELU(approximate="tanh"),
                                 nn.Linear(mlp_ratio * width, width))

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, N, D) -> (B, N, D)."""
        q, k, v = self.qkv(self.norm1(x)).unflatten(-1, (3, self.num_heads, -1)).permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(q, k, v)  # (B, heads, N, D/heads): flash / mem-efficient
        x = x + self.proj(attn.transpose(1, 2).flatten(2))
        return x + self.mlp(self.norm2(x))


class Transformer(nn.Module):
    def __init__(self, width: int, depth: int, num_heads: int, mlp_ratio: int = 4):
        super().__init__()
        self.blocks = nn.ModuleList(Block(width, num_heads, mlp_ratio) for _ in range(depth))
        self.gradient_checkpointing = False  # switched by diffusers' enable_gradient_checkpointing()

    def forward(self, x: Tensor, start: int = 0) -> Tensor:
        """x (B, N, D) -> (B, N, D) through blocks[start:] (a stitched decoder enters after a block)."""
        for block in self.blocks[start:]:
            if self.gradient_checkpointing and x.requires_grad:
                x = self._gradient_checkpointing_func(block, x)
            else:
                x = block(x)
        return x
