"""Camera encoder: a Plücker map of the video's frames -> camera tokens on the video-token grid.

(B, F=49, 6, H, W) -> latent-frame grouping of `wonderland.latents.group_frames` (frame 0 padded to a
group of 4, then groups of 4: the VAE's causal /4) -> (B, 13, 4*6, H, W) -> a 3D convolution with
kernel = stride = (1, 8, 8) (the VAE's spatial /8) -> 3x3x3 convolutions at latent resolution ->
unfold into the transformer's p x p patches in its token order (t, h, w) -> zero-initialised
linear to the transformer width. Output (B, T * H/(8p) * W/(8p), D): 13 x 30 x 45 x 3072 at 480x720.
"""

from __future__ import annotations

from torch import Tensor, nn

from wonderland.latents import SPATIAL_COMPRESSION, TEMPORAL_COMPRESSION, group_frames

PLUCKER_CHANNELS = 6


class CameraEncoder(nn.Module):
    def __init__(self, out_dim: int, patch_size: int = 2, channels: int = 128, num_layers: int = 2,
                 zero_init: bool = True):
        super().__init__()
        self.patch_size = patch_size
        s = SPATIAL_COMPRESSION
        self.compress = nn.Conv3d(TEMPORAL_COMPRESSION * PLUCKER_CHANNELS, channels, (1, s, s), stride=(1, s, s))
        self.convs = nn.ModuleList(nn.Conv3d(channels, channels, 3, padding=1) for _ in range(num_layers))
        self.act = nn.SiLU()
        self.norm = nn.LayerNorm(channels * patch_size**2)
        self.proj = nn.Linear(channels * patch_size**2, out_dim)
        # Zero output: a fresh encoder adds nothing, so the conditioned model starts as the base model.
        # `zero_init=False` when a zero layer already follows (the LoRA branch's fuse): two zero factors
        # in a row would give each other zero gradient forever.
        if zero_init:
            nn.init.zeros_(self.proj.weight)
            nn.init.zeros_(self.proj.bias)

    def forward(self, plucker: Tensor) -> Tensor:
        """(B, F, 6, H, W) Plücker map -> (B, T * (H/8p) * (W/8p), out_dim) camera tokens."""
        x = group_frames(plucker, dim=1)  # (B, T, 4, 6, H, W)
        x = x.flatten(2, 3).transpose(1, 2)  # (B, 24, T, H, W)
        x = self.compress(x)  # (B, C, T, H/8, W/8)
        for conv in self.convs:
            x = x + conv(self.act(x))
        b, c, t, h, w = x.shape
        p = self.patch_size
        # Unfold p x p patches, token order (t, h, w) as CogVideoXPatchEmbed flattens its grid.
        x = x.reshape(b, c, t, h // p, p, w // p, p).permute(0, 2, 3, 5, 1, 4, 6)  # (B, T, h', w', C, p, p)
        x = x.reshape(b, t * (h // p) * (w // p), c * p * p)
        return self.proj(self.norm(x))

