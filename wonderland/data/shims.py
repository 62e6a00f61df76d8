"""Pure image shims (pixelSplat's name): crop and resize pixels; `Cameras` does the same to K."""

from __future__ import annotations

import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor


def center_crop_resize_images(images: Float[Tensor, "n 3 H W"], box: tuple[int, int, int, int], height: int,
                              width: int) -> Float[Tensor, "n 3 h w"]:
    """Crop the window `box` = (top, left, h, w) (from `Cameras.center_crop_box`) and resize it to
    (height, width) with antialiasing, so downsampled frames do not alias. Values stay in [0, 1]."""
    top, left, h, w = box
    out = images[..., top:top + h, left:left + w]
    if (h, w) != (height, width):
        out = F.interpolate(out, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    return out.clamp(0, 1)
