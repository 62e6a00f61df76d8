"""Datasets: one `Scene` type from every reader, view samplers, torch Datasets, synthetic scenes.

Readers (one module per format): `re10k` (RealEstate10K / ACID layout a), `re10k_torch` (pixelSplat
chunks), `dl3dv` (nerfstudio transforms.json), `colmap` (Tanks-and-Temples, any COLMAP model).
Clips made by the camera-guided model for the LaLRM's stage 2: `generated_clips` (the versioned format's writer
and reader; `wonderland-make-clips` writes them).
"""

from __future__ import annotations

from pathlib import Path

from wonderland.errors import InputError

from .datasets import ReconstructionDataset, SkipCounter, VideoClipDataset
from .sampling import (
    CLIP_STRIDES,
    EvalEntry,
    EvalIndex,
    TooFewFramesError,
    read_pixelsplat_index,
    sample_clip,
    sample_supervision_views,
)
from .scene import SKIP_REASONS, CorruptSampleError, Scene, SceneCollection, check_cameras

KINDS = ("re10k", "acid", "re10k_torch", "acid_torch", "dl3dv", "colmap", "tanks")
# The keyword options each reader takes (configs name them as `dataset.options`).
READER_OPTIONS = {"re10k": ("frames_root",), "acid": ("frames_root",), "re10k_torch": (), "acid_torch": (),
                  "dl3dv": ("images",), "colmap": (), "tanks": ()}


def open_scenes(kind: str, root: str | Path, **kw) -> SceneCollection:
    """The scenes of one dataset root. kind: re10k | acid (layout a; kw frames_root), re10k_torch |
    acid_torch (pixelSplat chunks), dl3dv (kw images='images_4'), colmap | tanks.
    A missing root or one without readable scenes raises `InputError`."""
    unknown = sorted(set(kw) - set(READER_OPTIONS.get(kind, kw)))
    if unknown:
        takes = ", ".join(READER_OPTIONS[kind]) or "none"
        raise InputError(None, f"options.{unknown[0]}", f"unknown option of the {kind} reader (it takes: {takes})",
                         value=kw[unknown[0]])
    if kind in ("re10k", "acid"):
        from .re10k import open_re10k
        return open_re10k(root, kind=kind, **kw)
    if kind in ("re10k_torch", "acid_torch"):
        from .re10k_torch import open_re10k_torch
        return open_re10k_torch(root, kind=kind, **kw)
    if kind == "dl3dv":
        from .dl3dv import open_dl3dv
        return open_dl3dv(root, **kw)
    if kind in ("colmap", "tanks"):
        from .colmap import open_colmap
        return open_colmap(root, kind=kind, **kw)
    raise InputError(None, "kind", f"unknown dataset kind {kind!r}; expected one of {', '.join(KINDS)}")


__all__ = [
    "CLIP_STRIDES", "KINDS", "READER_OPTIONS", "SKIP_REASONS", "CorruptSampleError", "EvalEntry", "EvalIndex",
    "ReconstructionDataset", "Scene", "SceneCollection", "SkipCounter", "TooFewFramesError", "VideoClipDataset",
    "check_cameras", "open_scenes", "read_pixelsplat_index", "sample_clip", "sample_supervision_views",
]
