"""Camera poses of a frame sequence by COLMAP structure-from-motion (pycolmap 4.x, imported lazily).

Used to score camera control (RotErr / TransErr on generated frames, SPEC section 4) and for
`--poses colmap` on user videos. With the intrinsics known: SIFT features on one shared PINHOLE
camera whose parameters are fixed (never refined), sequential matching, incremental mapping; the
largest reconstructed model wins. Frames it leaves out are reported as unregistered (NaN poses),
never dropped silently. Image coordinates: COLMAP puts pixel centres at i + 0.5, as SPEC section 0
does, so K passes through unchanged.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .errors import InputError
from .geometry import rigid_inverse


@dataclass
class SfMResult:
    c2w: Tensor  # (F, 4, 4) float64 OpenCV camera-to-world in the model's frame/scale; NaN where unregistered
    registered: Tensor  # (F,) bool
    num_models: int  # reconstructions COLMAP produced (the largest is used)
    num_points3d: int  # in the chosen model
    mean_reprojection_error: float  # pixels, chosen model; NaN without a model

    @property
    def num_registered(self) -> int:
        return int(self.registered.sum())


def _check_inputs(frames: Tensor, K: Tensor) -> None:
    if frames.ndim != 4 or frames.shape[1] != 3:
        raise InputError(None, "frames", f"expected (F, 3, H, W) images in [0, 1], got {tuple(frames.shape)}")
    if frames.shape[0] < 2:
        raise InputError(None, "frames", f"structure from motion needs at least 2 frames, got {frames.shape[0]}")
    if K.shape != (3, 3) or not torch.isfinite(K).all() or K[0, 0] <= 0 or K[1, 1] <= 0:
        raise InputError(None, "K", f"expected a (3, 3) pinhole intrinsic matrix in pixels, got {K.tolist()}")


def _write_frames(frames: Tensor, image_dir: Path) -> list[str]:
    import imageio.v3 as iio

    image_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for i, frame in enumerate(frames):  # (3, H, W)
        names.append(f"{i:05d}.png")
        rgb = (frame.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        iio.imwrite(image_dir / names[-1], rgb)
    return names


def _mapping_options(num_frames: int, seed: int, num_threads: int):
    import pycolmap

    opts = pycolmap.IncrementalPipelineOptions()
    # Known intrinsics stay fixed: refining them would let focal length absorb pose error.
    opts.ba_refine_focal_length = False
    opts.ba_refine_principal_point = False
    opts.ba_refine_extra_params = False
    opts.mapper.abs_pose_refine_focal_length = False
    opts.mapper.abs_pose_refine_extra_params = False
    # COLMAP's default (10 images) would discard every model of a 16-frame clip that loses a few frames;
    # a model must still hold half the clip, else all its frames count as unregistered.
    opts.min_model_size = min(opts.min_model_size, max(2, num_frames // 2))
    opts.random_seed = seed
    opts.num_threads = num_threads
    return opts


def estimate_poses(
    frames: Tensor,  # (F, 3, H, W) in [0, 1]
    K: Tensor,  # (3, 3) pixel intrinsics of these frames
    workdir: str | os.PathLike | None = None,
    seed: int = 0,
    num_threads: int = 1,
    verbose: bool = False,
) -> SfMResult:
    """COLMAP poses of `frames` with known intrinsics. `workdir` keeps the images, database and model
    (a temporary directory otherwise); `verbose` keeps COLMAP's per-image INFO log.

    One thread by default: COLMAP's multi-threaded SIFT extraction and matching are not run-to-run
    reproducible (on a 16-frame 128x192 clip the rotation error of a frame varied 0.02-0.06 rad between
    identical runs), and metrics must be. `num_threads=-1` uses every core, for speed on long videos."""
    _check_inputs(frames, K)
    import pycolmap

    level = pycolmap.logging.minloglevel
    pycolmap.logging.minloglevel = min(level, 0) if verbose else max(level, 1)  # 1 = WARNING
    try:
        if workdir is None:
            with tempfile.TemporaryDirectory(prefix="wonderland-sfm-") as tmp:
                return _run(frames, K, Path(tmp), seed, num_threads)
        return _run(frames, K, Path(workdir), seed, num_threads)
    finally:
        pycolmap.logging.minloglevel = level


def _run(frames: Tensor, K: Tensor, work: Path, seed: int, num_threads: int) -> SfMResult:
    import pycolmap

    image_dir, database, sparse = work / "images", work / "database.db", work / "sparse"
    if database.exists():
        database.unlink()  # a stale database from another clip would mix features
    names = _write_frames(frames, image_dir)
    fx, fy, cx, cy = (float(v) for v in (K[0, 0], K[1, 1], K[0, 2], K[1, 2]))
    reader = pycolmap.ImageReaderOptions(camera_model="PINHOLE", camera_params=f"{fx},{fy},{cx},{cy}")
    extraction = pycolmap.FeatureExtractionOptions(num_threads=num_threads)
    pycolmap.extract_features(database, image_dir, image_names=names, camera_mode=pycolmap.CameraMode.SINGLE,
                              reader_options=reader, extraction_options=extraction)
    pycolmap.match_sequential(database, matching_options=pycolmap.FeatureMatchingOptions(num_threads=num_threads))
    sparse.mkdir(parents=True, exist_ok=True)
    models = pycolmap.incremental_mapping(database, image_dir, sparse,
                                          options=_mapping_options(len(names), seed, num_threads))

    num_frames = frames.shape[0]
    c2w = torch.full((num_frames, 4, 4), float("nan"), dtype=torch.float64)
    registered = torch.zeros(num_frames, dtype=torch.bool)
    if not models:
        return SfMResult(c2w, registered, 0, 0, float("nan"))
    model = max(models.values(), key=lambda r: r.num_reg_images())
    index = {name: i for i, name in enumerate(names)}
    for image in model.images.values():
        if not image.has_pose:
            continue
        w2c = torch.eye(4, dtype=torch.float64)
        w2c[:3] = torch.from_numpy(np.asarray(image.cam_from_world().matrix()))
        i = index[image.name]
        c2w[i], registered[i] = rigid_inverse(w2c), True
    return SfMResult(c2w, registered, len(models), model.num_points3D(), model.compute_mean_reprojection_error())
