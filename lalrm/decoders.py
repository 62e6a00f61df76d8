"""Latent 3D decoders by folder: the LaLRM or a stitched decoder (VIST3A), told apart by their config's
`_class_name`. Both take (latents (B, 16, T, h, w), cameras (B, F)) and return an output with `.gaussians`, so the
product (`WonderlandPipeline`, through the family manifest's `lalrm` entry) uses either."""

from __future__ import annotations

import json
from pathlib import Path

from wonderland.errors import InputError

DECODERS = ("LaLRM", "StitchedDecoder")


def decoder_class(path: str | Path) -> type:
    """The class that loads the `save_pretrained` folder `path`."""
    config = Path(path) / "config.json"
    try:
        name = json.loads(config.read_text()).get("_class_name")
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(config, None, f"cannot read a decoder config ({e})") from None
    if name == "LaLRM":
        from .model import LaLRM

        return LaLRM
    if name == "StitchedDecoder":
        from .stitching import StitchedDecoder

        return StitchedDecoder
    raise InputError(config, "_class_name", f"{name!r} is not a latent 3D decoder; expected one of "
                     f"{', '.join(DECODERS)} (an RGBLRM reads frames: stitch it first, python -m lalrm.stitching)")


def load_decoder(path: str | Path):
    """A frozen latent 3D decoder (eval mode, no gradients) from its folder."""
    return decoder_class(path).from_pretrained(path).eval().requires_grad_(False)
