"""Reading user images and fitting them to the model's resolution.

Any size and aspect is centre-cropped to the model's aspect and resized (the crop is reported);
EXIF orientation is applied; grayscale becomes RGB; 16-bit images keep their precision; an alpha
channel is composited over a white background (the convention of most image-to-3D tools).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .errors import InputError
from .geometry import center_crop_box


@dataclass
class PreparedImage:
    image: Tensor  # (3, H, W) in [0, 1] at the model resolution
    source_size: tuple[int, int]  # (height, width) after EXIF rotation
    crop_box: tuple[int, int, int, int]  # (top, left, height, width) in the source image


def load_image(path: str | Path) -> Tensor:
    """(3, H, W) float32 in [0, 1]. Raises InputError for a missing, unreadable or non-image file."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "image file not found")
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            im.load()
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise InputError(path, None, f"not a readable image ({e.__class__.__name__})") from None
    if im.mode.startswith("I"):  # 16-bit (I;16*) or 32-bit integer grayscale: keep the precision
        gray = np.asarray(im, dtype=np.float32)
        full_scale = 65535.0 if im.mode.startswith("I;16") or gray.max() > 255 else 255.0
        arr = np.repeat(gray[..., None] / full_scale, 3, -1)
    else:
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            im = Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), im.convert("RGBA"))
        arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).clamp(0, 1)


def fit_image(image: Tensor, height: int, width: int) -> PreparedImage:
    """Centre-crop (3, H, W) to the aspect height:width, then resize with antialiasing."""
    src_h, src_w = image.shape[-2:]
    top, left, h, w = center_crop_box(src_h, src_w, height, width)
    crop = image[:, top:top + h, left:left + w]
    out = F.interpolate(crop[None], size=(height, width), mode="bilinear", antialias=True, align_corners=False)[0]
    return PreparedImage(out.clamp(0, 1), (src_h, src_w), (top, left, h, w))


# Above this factor the generated scene can hold no more detail than a blurred input (ours: a stated
# warning, not a floor; even a 1 x 1 image runs, as a flat colour).
UPSCALE_WARNING = 2.0


def upscale_factor(src_h: int, src_w: int, height: int, width: int) -> float:
    """How much the centre crop of a src_h x src_w image is enlarged to reach height x width (< 1: shrunk)."""
    _, _, h, w = center_crop_box(src_h, src_w, height, width)
    return max(height / h, width / w)


def warn_if_upscaled(path: str | Path, image: Tensor, height: int, width: int) -> float:
    """Warn when image (3, H, W) is upscaled more than UPSCALE_WARNING x to the model's size; the factor."""
    src_h, src_w = image.shape[-2:]
    factor = upscale_factor(src_h, src_w, height, width)
    if factor > UPSCALE_WARNING:
        warnings.warn(f"{path} is {src_h} x {src_w} pixels: its centre crop is upscaled {factor:.1f}x to the "
                      f"model's {height} x {width}; the scene will be blurry", stacklevel=2)
    return factor


def prepare_image(path: str | Path, height: int, width: int) -> PreparedImage:
    return fit_image(load_image(path), height, width)
