"""VIST3A model stitching (SPEC.md section 7): a pretrained RGB feed-forward 3D model put onto the video latents.

    python -m lalrm.stitching search ...   closed-form stitching map of every candidate layer, k* = argmin MSE
    python -m lalrm.stitching fit ...      label-free fine-tune of the stitched decoder against the original model
    python -m lalrm.stitching pretrain ... the RGB-input LRM (the stitchable model that runs here) on frames

A stitched decoder is another latent 3D decoder beside the LaLRM; this package imports only the core and lalrm.
"""

from .adapter import ADAPTERS, Stitchable, adapter_class
from .decoder import StitchedDecoder, StitchedOutput
from .layer import StitchingLayer, StitchSpec, parse_stitch_spec, unfold_latents, upsample_latents
from .regression import LinearFit, RidgeAccumulator
from .rgb_lrm import RGBLRM

__all__ = ["ADAPTERS", "LinearFit", "RGBLRM", "RidgeAccumulator", "StitchSpec", "Stitchable", "StitchedDecoder",
           "StitchedOutput", "StitchingLayer", "adapter_class", "parse_stitch_spec", "unfold_latents",
           "upsample_latents"]
