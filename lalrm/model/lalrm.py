"""`LaLRM`: video latents + cameras -> pixel-aligned 3D Gaussians in the cameras' world frame.

A diffusers model: the constructor keyword arguments are the config (recorded by `ConfigMixin`), so
`save_pretrained` / `from_pretrained` (safetensors) and `enable_gradient_checkpointing()` come for free.
Activation choices (SPEC.md section 3; precedents GS-LRM / Long-LRM; values in configs/lalrm/model):
  rgb = sigmoid; opacity = sigmoid, bias-initialised to `init_opacity` (low, so early Gaussians do not
  occlude each other); rotation = normalised quaternion (w, x, y, z), bias-initialised to identity;
  scale = exp, clamped to [scale_min, scale_max], bias-initialised to `init_scale` (small, about a pixel
  footprint); ray distance t = near + (far - near) * sigmoid(x), bias-initialised to `init_distance`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import Tensor, nn

from wonderland.gaussians import Gaussians, pixel_aligned_gaussians
from wonderland.geometry import Cameras, plucker_embedding, ray_bundle
from wonderland.latents import SPATIAL_COMPRESSION, num_latent_frames

from .head import DIST, OPACITY, RGB, ROT, SCALE, GaussianHead
from .tokenizer import Tokenizer
from .transformer import Transformer


@dataclass
class LaLRMOutput:
    gaussians: Gaussians  # batch (B,), G = F * Hg * Wg in (frame, row, col) order
    distance: Tensor  # (B, F, Hg, Wg) ray distance of every Gaussian (for the depth regulariser)


class LaLRM(ModelMixin, ConfigMixin):
    _supports_gradient_checkpointing = True
    tokenizer_class = Tokenizer  # the RGB-input twin (lalrm.stitching.rgb_lrm) swaps in its own

    @register_to_config
    def __init__(self, width: int = 1024, depth: int = 24, num_heads: int = 16, mlp_ratio: int = 4,
                 patch_size: int = 2, head_stride: int = 8, init_scale: float = 0.01, scale_min: float = 1e-3,
                 scale_max: float = 0.3, init_opacity: float = 0.1, near: float = 0.05, far: float = 20.0,
                 init_distance: float = 3.0):
        super().__init__()
        if not near < init_distance < far or not scale_min <= init_scale <= scale_max:
            raise ValueError("LaLRM: need near < init_distance < far and scale_min <= init_scale <= scale_max")
        self.tokenizer = self.tokenizer_class(width, patch_size)
        self.transformer = Transformer(width, depth, num_heads, mlp_ratio)
        self.head = GaussianHead(width, head_stride, init_scale, init_opacity)
        self.apply(_init_linear)
        with torch.no_grad():
            frac = (init_distance - near) / (far - near)
            self.head.deconv.bias[DIST] = math.log(frac / (1 - frac))

    # ---- sizes (pure arithmetic, also used on the meta device by the dry run) ------------------------
    def token_grid(self, num_frames: int, height: int, width: int) -> tuple[int, int, int]:
        """(T, ht, wt) tokens of a (num_frames, height, width) video; the latent grid is padded to the patch."""
        p = self.config.patch_size
        h, w = height // SPATIAL_COMPRESSION, width // SPATIAL_COMPRESSION
        return num_latent_frames(num_frames), -(-h // p), -(-w // p)

    def gaussian_map_size(self, height: int, width: int) -> tuple[int, int]:
        """(Hg, Wg): one Gaussian per pixel of this map per frame (the padded map cropped back)."""
        p, s = self.config.patch_size, self.config.head_stride
        h, w = height // SPATIAL_COMPRESSION, width // SPATIAL_COMPRESSION
        if (h * s) % p or (w * s) % p:
            raise ValueError(f"latent grid {h}x{w} x head stride {s} is not divisible by patch {p}")
        return h * s // p, w * s // p

    # ---- forward -------------------------------------------------------------------------------------
    def predict_map(self, latents: Tensor, plucker: Tensor) -> Tensor:
        """latents (B, 16, T, h, w), plucker (B, F, 6, 8h, 8w) -> raw map (B, F, 12, Hg, Wg)."""
        p, (h, w) = self.config.patch_size, latents.shape[-2:]
        ph, pw = (-h) % p, (-w) % p  # pad the latent grid (bottom/right) to whole patches ...
        latents = F.pad(latents, (0, pw, 0, ph))
        plucker = F.pad(plucker, (0, SPATIAL_COMPRESSION * pw, 0, SPATIAL_COMPRESSION * ph))
        grid = (latents.shape[2], (h + ph) // p, (w + pw) // p)
        tokens = self.transformer(self.tokenizer(latents, plucker))  # (B, N, D)
        raw = self.head(tokens, grid)  # (B, F, 12, ht*s, wt*s)
        hg, wg = self.gaussian_map_size(SPATIAL_COMPRESSION * h, SPATIAL_COMPRESSION * w)
        return raw[..., :hg, :wg]  # ... and crop the Gaussian map back to the real pixels

    def forward(self, latents: Tensor, cameras: Cameras) -> LaLRMOutput:
        """latents (B, 16, T, h, w) + cameras (B, F) of the (F, 8h, 8w) video -> Gaussians (B, F*Hg*Wg)."""
        height, width = (SPATIAL_COMPRESSION * n for n in latents.shape[-2:])
        if (cameras.height, cameras.width) != (height, width):
            raise ValueError(f"cameras are {cameras.height}x{cameras.width}, latents imply {height}x{width}")
        c2w, K = cameras.c2w.float(), cameras.K.float()
        plucker = plucker_embedding(c2w, K, height, width)  # (B, F, 6, H, W)
        return self.activate(self.predict_map(latents, plucker), cameras)

    def activate(self, raw: Tensor, cameras: Cameras) -> LaLRMOutput:
        """Raw map (B, F, 12, Hg, Wg) + cameras (B, F) of the (F, H, W) video -> pixel-aligned Gaussians (fp32)."""
        raw = raw.float()
        c2w, K = cameras.c2w.float(), cameras.K.float()
        hg, wg = raw.shape[-2:]
        small = Cameras(c2w, K, cameras.height, cameras.width).resize(hg, wg)
        origins, dirs = ray_bundle(small.c2w, small.K, hg, wg)  # (B, F, Hg, Wg, 3)
        cfg = self.config
        x = raw.permute(0, 1, 3, 4, 2)  # (B, F, Hg, Wg, 12)
        distance = cfg.near + (cfg.far - cfg.near) * torch.sigmoid(x[..., DIST.start])  # (B, F, Hg, Wg)
        gaussians = pixel_aligned_gaussians(
            origins.flatten(1, 3), dirs.flatten(1, 3), distance.flatten(1, 3),
            colors=torch.sigmoid(x[..., RGB]).flatten(1, 3),
            scales=torch.exp(x[..., SCALE]).clamp(cfg.scale_min, cfg.scale_max).flatten(1, 3),
            quats=F.normalize(x[..., ROT], dim=-1).flatten(1, 3),
            opacities=torch.sigmoid(x[..., OPACITY.start]).flatten(1, 3))
        return LaLRMOutput(gaussians, distance)


def _init_linear(m: nn.Module) -> None:
    """GPT / GS-LRM initialisation for the transformer's linears (std 0.02, zero bias)."""
    if isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=0.02)
        nn.init.zeros_(m.bias)
