"""`RGBLRM`: the LaLRM's RGB-input twin, the stitchable 3D model that runs here (in place of AnySplat / VGGT).

Same constructor arguments, transformer, pose tokens, fusion, Gaussian head and activations as `LaLRM`; only the
content tokens differ: a Conv3d patchify of the frames straight onto the LaLRM token grid (kernel = stride =
(4, 8p, 8p) on the frame-0-padded video, as the pose tokens), so an RGB token covers exactly the pixels and frames
of one latent token. Frames are centred to [-1, 1] first.

Candidate layers (shallow to deep), all on the (T, h/p, w/p) token grid with `width` channels:
  tokenizer.rgb_embed   the RGB patch tokens, before LayerNorm and pose fusion (a linear function of pixels)
  tokenizer             the fused RGB + pose tokens
  transformer.blocks.i  the residual stream after block i
Cut after `tokenizer.rgb_embed`, the decoder still builds pose tokens from the cameras; cut later, the cameras
reach it only through the pixel-aligned rays of the Gaussians (its tokens must carry the pose themselves).
Its stitching spec is `conv3d_k5x3x3_o<width>_s4x2x2_p2x1x1` (temporal stride 4 back to the latent grid: the
4T-3 upsampled frames -> T tokens, frame 4k at the centre of token k's kernel); AnySplat / VGGT have per-frame
tokens and use SPEC's `..._s1x2x2_p2x1x1`.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from wonderland.gaussians import Gaussians
from wonderland.geometry import Cameras, plucker_embedding
from wonderland.latents import SPATIAL_COMPRESSION, TEMPORAL_COMPRESSION, pad_frames

from ..model import LaLRM, Tokenizer
from ..model.lalrm import LaLRMOutput

OUTPUTS = ("means", "quats", "scales", "opacities", "colors", "distance")


class RGBTokenizer(Tokenizer):
    """RGB patch tokens + the LaLRM's pose tokens and fusion."""

    def __init__(self, width: int, patch_size: int):
        super().__init__(width, patch_size)
        self.latent_embed = None  # no latents here
        k = (TEMPORAL_COMPRESSION, SPATIAL_COMPRESSION * patch_size, SPATIAL_COMPRESSION * patch_size)
        self.rgb_embed = nn.Conv3d(3, width, k, stride=k)

    def forward(self, frames: Tensor, plucker: Tensor) -> Tensor:
        """frames (B, F, 3, H, W) in [0, 1], plucker (B, F, 6, H, W), H and W multiples of 8p -> (B, N, D)."""
        grid = self.rgb_embed(pad_frames(frames * 2 - 1, dim=1).transpose(1, 2))  # (B, D, T, H/8p, W/8p)
        return self.fuse_with_pose(grid.flatten(2).transpose(1, 2), plucker)


class RGBLRM(LaLRM):
    tokenizer_class = RGBTokenizer
    output_names = OUTPUTS

    # ---- the model on frames ---------------------------------------------------------------------------------
    def _pad(self, height: int, width: int) -> tuple[int, int]:
        """Pixels added at the bottom/right so the token grid is whole (the LaLRM pads its latents the same)."""
        p = self.config.patch_size
        h, w = height // SPATIAL_COMPRESSION, width // SPATIAL_COMPRESSION
        return SPATIAL_COMPRESSION * ((-h) % p), SPATIAL_COMPRESSION * ((-w) % p)

    def _plucker(self, cameras: Cameras) -> Tensor:
        """(B, F, 6, H, W) padded like the frames."""
        ph, pw = self._pad(cameras.height, cameras.width)
        pl = plucker_embedding(cameras.c2w.float(), cameras.K.float(), cameras.height, cameras.width)
        return F.pad(pl, (0, pw, 0, ph))

    def _decode(self, tokens: Tensor, grid: tuple[int, int, int], cameras: Cameras, start: int = 0) -> LaLRMOutput:
        """tokens (B, N, D) entering transformer block `start` -> Gaussians (the padded map cropped back)."""
        raw = self.head(self.transformer(tokens, start), grid)  # (B, F, 12, ht*s, wt*s)
        hg, wg = self.gaussian_map_size(cameras.height, cameras.width)
        return self.activate(raw[..., :hg, :wg], cameras)

    def forward(self, frames: Tensor, cameras: Cameras) -> LaLRMOutput:
        """frames (B, F, 3, H, W) in [0, 1] + cameras (B, F) at (H, W) -> Gaussians (B, F*Hg*Wg)."""
        if self.tokenizer is None or self.tokenizer.rgb_embed is None:
            raise RuntimeError("this RGBLRM was pruned for a stitched decoder: it no longer reads frames")
        height, width = frames.shape[-2:]
        if (cameras.height, cameras.width) != (height, width):
            raise ValueError(f"cameras are {cameras.height}x{cameras.width}, frames are {height}x{width}")
        ph, pw = self._pad(height, width)
        tokens = self.tokenizer(F.pad(frames, (0, pw, 0, ph)), self._plucker(cameras))
        return self._decode(tokens, self.token_grid(frames.shape[1], height, width), cameras)

    # ---- the stitching adapter (lalrm.stitching.adapter.Stitchable) -----------------------------------------
    def stitch_config(self) -> dict:
        return {k: v for k, v in self.config.items() if not k.startswith("_")}

    def candidate_layers(self) -> list[str]:
        return ["tokenizer.rgb_embed", "tokenizer"] + [f"transformer.blocks.{i}" for i in range(self.config.depth)]

    def rgb_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width

    def _check_layer(self, layer: str) -> None:
        if layer not in self.candidate_layers():
            raise ValueError(f"{layer!r} is not a candidate layer of the RGB LRM; expected one of "
                             f"{', '.join(self.candidate_layers())}")

    def layer_grid(self, layer: str, num_frames: int, height: int, width: int) -> tuple[int, int, int, int]:
        self._check_layer(layer)
        return (self.config.width, *self.token_grid(num_frames, height, width))

    def layer_to_grid(self, layer: str, output: Tensor, num_frames: int, height: int, width: int) -> Tensor:
        if output.ndim == 5:  # the patchify conv: already (B, D, T, ht, wt)
            return output
        return output.transpose(1, 2).unflatten(2, self.token_grid(num_frames, height, width))  # (B, N, D) ->

    def outputs(self, out: LaLRMOutput) -> dict[str, Tensor]:
        g = out.gaussians
        return {"means": g.means, "quats": g.quats, "scales": g.scales, "opacities": g.opacities, "colors": g.colors,
                "distance": out.distance.flatten(1)}

    def forward_rgb(self, frames: Tensor, cameras: Cameras) -> dict[str, Tensor]:
        return self.outputs(self(frames, cameras))

    def forward_from(self, layer: str, activation: Tensor, cameras: Cameras) -> dict[str, Tensor]:
        self._check_layer(layer)
        grid = tuple(activation.shape[2:])
        tokens = activation.flatten(2).transpose(1, 2)  # (B, N, D)
        start = 0
        if layer == "tokenizer.rgb_embed":
            tokens = self.tokenizer.fuse_with_pose(tokens, self._plucker(cameras))
        elif layer.startswith("transformer.blocks."):
            start = int(layer.rsplit(".", 1)[1]) + 1
        return self.outputs(self._decode(tokens, grid, cameras, start))

    def to_gaussians(self, outputs: dict[str, Tensor]) -> Gaussians:
        return Gaussians(outputs["means"], outputs["quats"], outputs["scales"], outputs["opacities"],
                         outputs["colors"])

    def prune_before(self, layer: str) -> None:
        self._check_layer(layer)
        if layer == "tokenizer.rgb_embed":
            self.tokenizer.rgb_embed = None
            return
        self.tokenizer = None
        if layer.startswith("transformer.blocks."):
            for i in range(int(layer.rsplit(".", 1)[1]) + 1):
                self.transformer.blocks[i] = nn.Identity()  # keeps the later blocks' names (and checkpoints' keys)

    def lora_targets(self, layer: str) -> list[str]:
        return [n for n, m in self.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.Conv3d))]

    def extra_trainable(self, layer: str) -> list[str]:
        return ["head.deconv"]  # a ConvTranspose3d: peft has no LoRA for it, and it is small
