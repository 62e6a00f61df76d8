"""Set-level metrics of an evaluation: FID / FVD pooled over every clip, from per-clip features.

A clip's Inception / I3D features of its generated and ground-truth frames are stored in
`<out_dir>/features/<clip_id>.npz` (keys `fid_real`, `fid_fake`, `fvd_real`, `fvd_fake`: (N, D) arrays)
before its record is logged, so a resumed or sharded run pools the same sets as one pass would.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..io import atomic_path
from ..metrics import frechet_distance_of_features


def features_path(out_dir: str | os.PathLike, clip_id: str) -> Path:
    return Path(out_dir) / "features" / (clip_id.replace(os.sep, "_") + ".npz")


def save_features(out_dir: str | os.PathLike, clip_id: str, features: dict[str, np.ndarray]) -> None:
    with atomic_path(features_path(out_dir, clip_id)) as tmp, open(tmp, "wb") as f:
        np.savez(f, **features)


def set_metrics(task: str, out_dir: str | os.PathLike, clip_ids: list[str], unavailable: dict[str, str]
                ) -> dict[str, tuple[float | None, str | None]]:
    """{metric: (value | None, reason | None)} of the whole set: FID / FVD (video task) from the stored
    features, and the reason for every per-clip metric whose network is missing (LPIPS). A set with a
    clip lacking features (evaluated without the weights) gets no partial value."""
    out = {}
    if "lpips" in unavailable:
        out |= {m: (None, unavailable["lpips"]) for m in ("lpips", "lpips_unseen")[: 2 if task == "recon" else 1]}
    if task != "video":
        return out
    for metric in ("fid", "fvd"):
        if metric in unavailable:
            out[metric] = (None, unavailable[metric])
            continue
        paths = [features_path(out_dir, c) for c in clip_ids]
        missing = sum(not p.exists() for p in paths)
        if missing:
            out[metric] = (None, f"features missing for {missing} of {len(paths)} clips (evaluated without the "
                                 f"{metric.upper()} weights?); evaluate into a new output_dir")
            continue
        stored = [np.load(p) for p in paths]
        real = np.concatenate([s[f"{metric}_real"] for s in stored])  # (N, D) over all clips
        fake = np.concatenate([s[f"{metric}_fake"] for s in stored])
        if min(len(real), len(fake)) < 2:
            out[metric] = (None, f"{metric.upper()} needs at least 2 samples per set, got {len(real)}")
        else:
            out[metric] = (frechet_distance_of_features(real, fake), None)
    return out
