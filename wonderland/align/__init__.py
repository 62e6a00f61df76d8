"""VIST3A alignment (SPEC.md section 7): reward fine-tuning of a family's camera-conditioned generator so that
what it generates decodes into consistent 3D. `align(cfg)` / `python -m wonderland.align` train an
alignment-LoRA (train.py); its EMA weights are a family component (lora.py) that `WonderlandPipeline` loads
when the manifest names one. Top layer: joins camera_video and lalrm."""

from .config import AlignConfig, to_schema
from .lora import apply_alignment, attach_alignment, save_component
from .reward import register_quality_scorer
from .train import align, main

__all__ = ["AlignConfig", "align", "apply_alignment", "attach_alignment", "main", "register_quality_scorer",
           "save_component", "to_schema"]
