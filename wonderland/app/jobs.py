"""What the page does, without the page: preview a camera path, run the pipeline, write every output.

One `AppJobs` holds one loaded `WonderlandPipeline` (loaded once, at start-up) and a lock, so requests
that Gradio's queue lets through one after another never share the model mid-run. Bad input raises
`InputError` before the model runs; the page turns it into a message.
"""

from __future__ import annotations

import inspect
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..geometry import Cameras
from ..trajectories import PRESETS, load_trajectory, make_preset
from ..trajectories.plot import plot_trajectory

DEFAULT_FOV = 50.0  # degrees, as `wonderland-trajectory preset`


def preset_parameters(name: str) -> dict[str, float]:
    """The preset's own parameters and their defaults (what the page shows for it)."""
    if name not in PRESETS:
        raise InputError(None, "preset", f"unknown preset '{name}'; expected one of {sorted(PRESETS)}")
    return {k: p.default for k, p in inspect.signature(PRESETS[name]).parameters.items() if k != "n"}


@dataclass
class PathRequest:
    """A camera path: an uploaded trajectory file, or a preset with its parameters (None = default)."""

    preset: str = "orbit"
    params: dict[str, float | None] | None = None
    trajectory_file: str | None = None
    fov: float = DEFAULT_FOV


class AppJobs:
    def __init__(self, pipe, out_root: str | Path):
        self.pipe, self.out_root = pipe, Path(out_root)
        self.manifest = pipe.manifest
        self._lock = threading.Lock()

    def cameras(self, req: PathRequest) -> Cameras:
        m = self.manifest
        if req.trajectory_file:
            return load_trajectory(req.trajectory_file)
        allowed = preset_parameters(req.preset)
        params = {k: float(v) for k, v in (req.params or {}).items() if k in allowed and v is not None}
        if not 1 <= req.fov < 180:
            raise InputError(None, "field of view", f"expected degrees in [1, 180), got {req.fov}")
        return make_preset(req.preset, m.num_frames, m.height, m.width, req.fov, **params)

    def new_dir(self) -> Path:
        out = self.out_root / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        out.mkdir(parents=True)
        return out

    def preview(self, req: PathRequest) -> Path:
        """The `wonderland-trajectory show` picture of the path, as a PNG."""
        out = self.out_root / "previews" / f"{uuid.uuid4().hex}.png"
        plot_trajectory(self.cameras(req), out, title=_path_title(req))
        return out

    def generate(self, image_path: str | None, req: PathRequest, seed: int = 0, steps: int | None = None,
                 min_opacity: float = 0.0, prompt: str | None = None) -> dict[str, Path]:
        """Image + path -> {name: file}: scene.ply, scene.splat, video.mp4, flythrough.mp4, cameras.json,
        report.json and path.png, in a new folder under `out_root`. `min_opacity` prunes the exported
        scene as `wonderland-generate --min-opacity` does (the fly-through keeps every Gaussian)."""
        from ..images import load_image
        from ..pipeline.outputs import write_outputs

        if not image_path:
            raise InputError(None, "image", "no image given: upload one")
        image = load_image(image_path)
        cams = self.cameras(req)
        if steps is not None and not 1 <= int(steps) <= 1000:
            raise InputError(None, "steps", f"expected 1 to 1000 denoising steps, got {steps}")
        if not 0 <= min_opacity < 1:
            raise InputError(None, "min opacity", f"expected a value in [0, 1), got {min_opacity}")
        out = self.new_dir()
        plot_trajectory(cams, out / "path.png", title=_path_title(req))
        with self._lock:
            self.pipe.stats = {k: v for k, v in self.pipe.stats.items() if k == "load"}
            result = self.pipe(image, cams, prompt=prompt or None, seed=int(seed),
                               num_inference_steps=None if steps is None else int(steps))
            settings = {"image": Path(image_path).name, "trajectory": _path_title(req),
                        "model": str(self.manifest.root), "seed": int(seed), "steps": steps, "prompt": prompt,
                        "min_opacity": min_opacity, "source": "wonderland-app"}
            files = write_outputs(result, out, settings, fps=self.manifest.fps, min_opacity=min_opacity,
                                  progress=False)
        return {**files, "path.png": out / "path.png"}


def _path_title(req: PathRequest) -> str:
    return Path(req.trajectory_file).name if req.trajectory_file else f"preset:{req.preset}"
