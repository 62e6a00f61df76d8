"""Writing a result: scene.ply, scene.splat, video.mp4, flythrough.mp4, cameras.json, report.json.

Every file is written atomically (temporary name + rename), so an interrupted run never leaves a
half-written file under a final name.
"""

from __future__ import annotations

import platform
from dataclasses import asdict
from pathlib import Path

import torch

from .. import __version__
from ..gaussians import save_ply, save_splat
from ..geometry import Cameras
from ..io import write_json
from ..render import render_video
from ..trajectories import save_trajectory
from ..video import write_video
from .pipeline import StageTimer, WonderlandResult

OUTPUT_FILES = ("scene.ply", "scene.splat", "video.mp4", "flythrough.mp4", "cameras.json", "report.json")
BACKGROUND = 1.0  # white: what the LaLRM is trained against


def versions() -> dict[str, str]:
    import diffusers
    import peft

    return {"wonderland": __version__, "torch": torch.__version__, "diffusers": diffusers.__version__,
            "peft": peft.__version__, "python": platform.python_version()}


def write_outputs(result: WonderlandResult, out_dir: str | Path, settings: dict, fps: float = 8.0,
                  render_cameras: Cameras | None = None, min_opacity: float = 0.0,
                  progress: bool = True, report_extra: dict | None = None) -> dict[str, Path]:
    """result: a `WonderlandResult` or a long walk's `LongResult` (same fields); report_extra: more keys
    for report.json (a long walk's chunks)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    g = result.gaussians.prune(min_opacity) if min_opacity > 0 else result.gaussians
    g = g.detach().to("cpu")
    stats = dict(result.stats)
    device = result.gaussians.means.device
    with StageTimer(stats, "write", device):
        save_ply(out / "scene.ply", g)
        save_splat(out / "scene.splat", g)
        write_video(out / "video.mp4", result.frames, fps=fps)
        save_trajectory(out / "cameras.json", result.cameras, metadata={"pose_source": result.pose_source})
    cams = render_cameras if render_cameras is not None else result.cameras
    with StageTimer(stats, "flythrough", device):
        # the scene that was exported: with --min-opacity, the pruned Gaussians
        rgb, _, _ = render_video(g.to(device), cams.to(device=device, dtype=torch.float32),
                                 torch.full((3,), BACKGROUND, device=device), progress=progress)
        write_video(out / "flythrough.mp4", rgb, fps=fps)
    report = {
        "settings": settings,
        "versions": versions(),
        "num_gaussians": int(g.means.shape[-2]),
        "pose_source": result.pose_source,
        "image": {"source_size": list(result.image.source_size),
                  "crop_box_top_left_height_width": list(result.image.crop_box)},
        "normalization_scale": float(result.normalization.scale),
        "sampler": result.sampler,
        "stages": {k: asdict(v) for k, v in stats.items()},
        **(report_extra or {}),
    }
    write_json(out / "report.json", report)
    return {name: out / name for name in OUTPUT_FILES}
