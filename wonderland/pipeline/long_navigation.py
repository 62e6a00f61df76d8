"""Long navigation (SPEC.md section 9): a trajectory longer than the model's clip, chunk by chunk into one scene.

1. Plan (`wonderland.trajectories.chunks`): F-frame windows overlapping by m frames, the last one pulled
   back to end on the last frame; which chunk supplies which frame of the video.
2. Chunk k (seed + k): its cameras relative to its first camera at chunk 0's scale (`chunk_cameras`); the
   video conditioned on the input image (k = 0) or on chunk k-1's 8-bit decoded frame at that camera;
   the LaLRM on the latents with exactly the cameras the video model was given; the Gaussians put back in
   the trajectory's world frame and units by the same normaliser (no pose estimation: the cameras are
   known). With an output folder every finished chunk is stored (`chunk_store.py`) and `resume` picks up
   after the last one.
3. Merge (`merge.py`): `previous` or `align`.

Scale. The video model and the LaLRM normalise any camera path they get (farthest camera at 1, SPEC
section 0), the only paths they were trained on. Re-expressed at chunk 0's scale, chunk k reaches them
divided once more by r_k = (chunk k's extent) / (chunk 0's extent), recorded as `generator_scale`: they
see chunk 0's scale exactly when r_k = 1 (a path of steady speed) and when a chunk does not move at all
(a pan: nothing to rescale, and its Gaussians come back at chunk 0's scale instead of the unit scale a
still clip gets on its own). Either way the Gaussians come back in the trajectory's units, since the
LaLRM sees the video model's cameras and both normalisers are undone. When r_k is far from 1 the content
of chunk k may come out at another scale than chunk 0's (the models know no absolute scale): a warning
says so, and `align` corrects the scale on the overlap.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from ..errors import InputError
from ..gaussians import Gaussians
from ..geometry import Cameras, PoseNormalization
from ..images import PreparedImage, fit_image
from ..trajectories.chunks import Chunk, check_jumps, check_overlap, chunk_cameras, chunk_scale, plan_chunks
from .chunk_store import ChunkStore, fingerprint
from .merge import MIN_ALIGN_OVERLAP, POLICIES, ChunkMerge, merge_chunks, move
from .pipeline import StageStats, StageTimer

log = logging.getLogger(__name__)
SCALE_WARNING = 2.0  # warn when a chunk travels more than 2x (or less than 1/2) as far as chunk 0


@dataclass
class ChunkResult:
    chunk: Chunk
    frames: Tensor  # (F, 3, H, W) uint8: the decoded video at 8 bits (stored, shown, and conditioning chunk k+1)
    latents: Tensor  # (16, T, h, w)
    cameras: Cameras  # (F,) the trajectory's own cameras [start, stop), model resolution, its units
    gaussians: Gaussians  # (F * Hg * Wg,) pixel-aligned, world frame and units, before merging
    seed: int
    generator_scale: float  # r_k (module docstring); 1 = the models saw chunk 0's scale
    seconds: dict[str, float]
    resumed: bool = False
    merge: ChunkMerge | None = None


@dataclass
class LongResult:
    gaussians: Gaussians  # (G,) the merged scene, trajectory units
    frames: Tensor  # (N, 3, H, W) in [0, 1]: every frame of the walk once
    cameras: Cameras  # (N,) the requested trajectory at the model resolution
    chunks: list[ChunkResult]
    policy: str
    overlap: int
    normalization: PoseNormalization  # chunk 0's: trajectory units <-> the frame the models saw first
    image: PreparedImage
    pose_source: str = "trajectory"
    stats: dict[str, StageStats] = field(default_factory=dict)

    def report(self) -> dict:
        """The long-walk part of report.json: per-chunk timings and Gaussian counts, the merge."""
        chunks = [{"index": r.chunk.index, "frames": [r.chunk.start, r.chunk.stop], "shared": r.chunk.shared,
                   "video_frames": [r.chunk.video_start, r.chunk.video_stop], "seed": r.seed,
                   "generator_scale": r.generator_scale, "seconds": r.seconds, "resumed": r.resumed,
                   "gaussians": r.gaussians.num, **({"merge": asdict(r.merge)} if r.merge else {})}
                  for r in self.chunks]
        return {"long_navigation": {"frames": len(self.cameras), "clip_frames": len(self.chunks[0].cameras),
                                    "chunk_overlap": self.overlap, "merge": self.policy,
                                    "chunk_scale": float(self.normalization.scale),
                                    "naive_gaussians": sum(r.gaussians.num for r in self.chunks),
                                    "merged_gaussians": self.gaussians.num, "chunks": chunks}}


def default_overlap(policy: str) -> int:
    """1 for `previous` (chunks share only the conditioning frame: no frame is generated twice), 3 for
    `align` (the smallest overlap its fit accepts)."""
    return MIN_ALIGN_OVERLAP if policy == "align" else 1


def check_long(trajectory: Cameras, clip_frames: int, overlap: int, policy: str, source=None) -> None:
    """Everything about a long walk that can be refused before a model loads (InputError)."""
    if policy not in POLICIES:
        raise InputError(None, "merge", f"expected one of {list(POLICIES)}, got {policy!r}")
    check_overlap(overlap, clip_frames)
    if policy == "align" and overlap < MIN_ALIGN_OVERLAP:
        raise InputError(None, "chunk_overlap", f"merge 'align' fits a similarity on the overlap and needs at "
                         f"least {MIN_ALIGN_OVERLAP} frames, got {overlap}")
    if not torch.isfinite(trajectory.c2w).all() or not torch.isfinite(trajectory.K).all():
        raise InputError(source, "trajectory", "poses or intrinsics contain NaN or inf")
    check_jumps(trajectory, source)


def run_fingerprint(manifest, image: Tensor, trajectory: Cameras, prompt: str | None, seed: int,
                    steps: int | None, guidance: float | None, overlap: int) -> dict:
    """`chunk_store.fingerprint` with the model family's defaults filled in."""
    m, d = manifest, manifest.defaults
    return fingerprint(image, trajectory, f"{m.name}:{Path(m.root).resolve()}", seed,
                       steps or d.get("num_inference_steps", 50),
                       guidance if guidance is not None else d.get("guidance_scale", 6.0),
                       prompt if prompt is not None else d.get("prompt", ""), overlap)


def check_resume(manifest, out_dir: str | Path, image: Tensor, trajectory: Cameras, prompt: str | None, seed: int,
                 steps: int | None, guidance: float | None, overlap: int) -> int:
    """-> how many chunks a resumed run would reuse; InputError when they were made with other inputs."""
    fp = run_fingerprint(manifest, image, trajectory, prompt, seed, steps, guidance, overlap)
    return len(ChunkStore(out_dir, fp).states())


def _run_chunk(pipe, cond: Tensor, trajectory: Cameras, chunk: Chunk, scale: Tensor, prompt, seed: int, steps,
               guidance) -> ChunkResult:
    model_cams, norm = chunk_cameras(trajectory, chunk, scale)
    t0 = time.perf_counter()
    video = pipe.generate_video(cond, model_cams, prompt, seed, steps, guidance)
    t1 = time.perf_counter()
    g = pipe.reconstruct(video.latents, video.cameras)  # in the chunk's frame, at chunk 0's scale
    seconds = {"video": t1 - t0, "reconstruct": time.perf_counter() - t1}
    frames = (video.frames.clamp(0, 1) * 255 + 0.5).to(torch.uint8)  # the rounding of wonderland.video
    r = float(video.normalization.scale)
    if not 1 / SCALE_WARNING <= r <= SCALE_WARNING:
        warnings.warn(f"chunk {chunk.index} travels {r:.2f}x as far as chunk 0; the models see every clip at unit "
                      "extent, so its content may come out at another scale (merge 'align' corrects it)",
                      stacklevel=3)
    return ChunkResult(chunk, frames, video.latents.cpu(), trajectory[chunk.start:chunk.stop],
                       move(g, norm).detach().to("cpu"), seed, r, seconds)


def generate_long(pipe, image: Tensor, trajectory: Cameras, prompt: str | None = None, seed: int = 0,
                  num_inference_steps: int | None = None, guidance_scale: float | None = None,
                  overlap: int | None = None, merge: str = "previous", out_dir: str | Path | None = None,
                  resume: bool = False, source=None) -> LongResult:
    """image (3, H, W) in [0, 1], any size; trajectory (N,) with N >= the model's clip -> `LongResult`.

    out_dir: where finished chunks are stored (`<out_dir>/chunks/`); resume: continue from them (a run
    without it starts over). source: the trajectory's file, named in errors."""
    m = pipe.manifest
    overlap = default_overlap(merge) if overlap is None else overlap
    check_long(trajectory, m.num_frames, overlap, merge, source)
    traj = trajectory.center_crop_resize(m.height, m.width)
    plan = plan_chunks(len(traj), m.num_frames, overlap)
    scale = chunk_scale(traj, m.num_frames)
    store = None
    states: list[dict] = []
    if out_dir is not None:
        store = ChunkStore(out_dir, run_fingerprint(m, image, trajectory, prompt, seed, num_inference_steps,
                                                    guidance_scale, overlap))
        states = store.finished() if resume else []
        if not resume:
            store.clear()
    results: list[ChunkResult] = []
    for chunk in plan:
        if chunk.index < len(states):
            frames, latents, g = store.load(chunk.index)
            st = states[chunk.index]
            results.append(ChunkResult(chunk, frames, latents, traj[chunk.start:chunk.stop], g, st["seed"],
                                       st["generator_scale"], st["seconds"], resumed=True))
            continue
        cond = image if chunk.index == 0 else results[-1].frames[chunk.conditioning_offset].float() / 255
        log.info("chunk %d/%d: frames %d-%d", chunk.index + 1, len(plan), chunk.start, chunk.stop - 1)
        res = _run_chunk(pipe, cond, traj, chunk, scale, prompt, seed + chunk.index, num_inference_steps,
                         guidance_scale)
        results.append(res)
        if store is not None:
            store.save(chunk.index, res.frames, res.latents, res.gaussians,
                       {"chunk": [chunk.start, chunk.stop], "seed": res.seed, "generator_scale": res.generator_scale,
                        "seconds": res.seconds, "num_gaussians": res.gaussians.num})
    for stage in ("video", "reconstruct"):  # totals over the chunks generated by this run (peak: the last's)
        done = [r.seconds[stage] for r in results if not r.resumed]
        if done and stage in pipe.stats:
            pipe.stats[stage] = StageStats(sum(done), pipe.stats[stage].peak_memory_mb)
    with StageTimer(pipe.stats, "merge", pipe.device):
        merged, infos = merge_chunks([r.gaussians.to(pipe.device) for r in results], [r.cameras for r in results],
                                     plan, pipe.lalrm.gaussian_map_size(m.height, m.width), merge)
    for r, info in zip(results, infos):
        r.merge = info
    frames = torch.cat([r.frames[c.video_start - c.start:c.video_stop - c.start] for r, c in zip(results, plan)])
    norm = PoseNormalization(traj.c2w[0].clone(), scale)
    return LongResult(merged, frames.float() / 255, traj, results, merge, overlap, norm,
                      fit_image(image, m.height, m.width), stats=dict(pipe.stats))
