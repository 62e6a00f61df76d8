"""CogVideoX 3D RoPE for a latent grid, computed exactly as diffusers' CogVideoX I2V pipeline does."""

from __future__ import annotations

import torch
from torch import Tensor


def rotary_embedding(config, num_latent_frames: int, latent_height: int, latent_width: int,
                     device: torch.device | str | None = None) -> tuple[Tensor, Tensor] | None:
    """(cos, sin), each (T * h/p * w/p, head_dim), or None for a model without RoPE.

    Mirrors `CogVideoXImageToVideoPipeline._prepare_rotary_positional_embeddings` (CogVideoX 1.0,
    `patch_size_t` None): the grid is cropped against the base grid the model was trained on.
    """
    if not config.use_rotary_positional_embeddings:
        return None
    from diffusers.models.embeddings import get_3d_rotary_pos_embed
    from diffusers.pipelines.cogvideo.pipeline_cogvideox_image2video import get_resize_crop_region_for_grid

    p = config.patch_size
    grid_h, grid_w = latent_height // p, latent_width // p
    crops = get_resize_crop_region_for_grid((grid_h, grid_w), config.sample_width // p, config.sample_height // p)
    return get_3d_rotary_pos_embed(embed_dim=config.attention_head_dim, crops_coords=crops,
                                   grid_size=(grid_h, grid_w), temporal_size=num_latent_frames, device=device)
