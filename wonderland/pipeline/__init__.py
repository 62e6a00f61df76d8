"""The product: image + trajectory -> 3D scene (long walks chunk by chunk). Joins `camera_video` and `lalrm`
(only here and in the CLI)."""

from .manifest import MANIFEST, Manifest, read_manifest
from .pipeline import StageStats, VideoResult, WonderlandPipeline, WonderlandResult

__all__ = ["MANIFEST", "Manifest", "StageStats", "VideoResult", "WonderlandPipeline", "WonderlandResult",
           "read_manifest"]
