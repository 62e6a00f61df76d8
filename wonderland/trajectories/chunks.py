"""Long trajectories in model-sized chunks (SPEC.md section 9): the plan, the re-expression, the jump check.

Pure functions of a trajectory; the generation and the merge live in `wonderland.pipeline.long_navigation`.

Plan. N frames and a model clip of F frames are cut into windows [start, start + F) that overlap by
m >= 1 frames (consecutive windows always share the frame the later chunk is conditioned on):
start_{k+1} = start_k + F - m. When N - 1 is not a multiple of F - m, the last window is pulled back to
[N - F, N): it overlaps its predecessor by more than m frames, so every chunk is a real F-frame stretch
of the requested path (no held poses, no frame the user did not ask for; the price is recomputing
at most F - m - 1 frames once).

Conditioning. Chunk k+1 starts at, and is conditioned on, chunk k's frame at trajectory index start_{k+1},
i.e. the first frame of the overlap: with the default m = 1 that is chunk k's last frame. (An image-to-video
model is conditioned on its first frame, so an overlap of m frames means starting m - 1 frames earlier.)

Video. Frame i of the walk comes from the chunk that generated it right after its conditioning frame:
chunk k supplies (start_k, start_{k+1}] (chunk 0 also frame 0, the last chunk up to N - 1). Every frame
appears once and every chunk boundary in the video is a generated continuation, never a cut back to an
older take.

Re-expression. Chunk k is given to the models relative to its first camera at chunk 0's scale:
PoseNormalization(reference = c2w[start_k], scale = scale_0), scale_0 being chunk 0's own normaliser
(its farthest camera centre from camera 0; 1 if it does not move). The reference is always the requested
pose itself, never one recovered from the previous chunk, so nothing drifts however many chunks follow.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..errors import InputError
from ..geometry import Cameras, PoseNormalization, geodesic_angle, normalize_poses

# A step between consecutive frames more than this many times the path's typical step is a jump (a cut
# the video model would have to invent). Smooth paths, eased keyframes included, vary their speed by a few
# times at most; a factor of 10 leaves that room and still catches a teleport of a fifth of a chunk's travel.
JUMP_FACTOR = 10.0
# Rotation steps below this are never jumps, whatever the typical step: up to 10 degrees a frame (80 degrees/s
# at 8 fps) is a fast pan, not a cut, and paths that mostly translate have a typical rotation step of 0.
MIN_JUMP_DEGREES = 10.0


@dataclass(frozen=True)
class Chunk:
    index: int
    start: int  # first trajectory frame (for k > 0 the frame it is conditioned on, made by chunk k-1)
    stop: int  # one past the last trajectory frame
    shared: int  # frames shared with the previous chunk's window (0 for chunk 0)
    video_start: int  # the trajectory frames [video_start, video_stop) come from this chunk in video.mp4
    video_stop: int

    @property
    def conditioning_offset(self) -> int:
        """Index, in the previous chunk's window, of this chunk's conditioning frame (k > 0)."""
        return self.stop - self.start - self.shared


def check_overlap(overlap: int, clip_frames: int) -> None:
    if not 1 <= overlap <= clip_frames // 2:
        raise InputError(None, "chunk_overlap", f"expected 1 (chunks share only the conditioning frame) to "
                         f"{clip_frames // 2} (half a {clip_frames}-frame clip), got {overlap}")


def plan_chunks(num_frames: int, clip_frames: int, overlap: int = 1) -> list[Chunk]:
    """Windows of `clip_frames` covering `num_frames` frames (see the module docstring)."""
    check_overlap(overlap, clip_frames)
    if num_frames < clip_frames:
        raise InputError(None, "trajectory", f"{num_frames} frames is shorter than the model's "
                         f"{clip_frames}-frame clip: nothing to chunk")
    starts = [0]
    while starts[-1] + clip_frames < num_frames:
        starts.append(min(starts[-1] + clip_frames - overlap, num_frames - clip_frames))
    chunks = []
    for k, s in enumerate(starts):
        shared = 0 if k == 0 else starts[k - 1] + clip_frames - s
        video_start = 0 if k == 0 else s + 1
        video_stop = starts[k + 1] + 1 if k + 1 < len(starts) else num_frames
        chunks.append(Chunk(k, s, s + clip_frames, shared, video_start, video_stop))
    return chunks


def chunk_scale(trajectory: Cameras, clip_frames: int) -> Tensor:
    """Chunk 0's normaliser scale: the farthest camera centre of frames [0, clip_frames) from camera 0
    (1 when they do not move), in the trajectory's units. Shape ()."""
    return normalize_poses(trajectory.c2w[:clip_frames])[1].scale


def chunk_cameras(trajectory: Cameras, chunk: Chunk, scale: Tensor) -> tuple[Cameras, PoseNormalization]:
    """Trajectory (N,) -> chunk's cameras (F,) relative to its first camera at `scale` (what the models are
    given) and the normaliser whose `invert` / `points_to_world` map them (and their Gaussians) back."""
    norm = PoseNormalization(trajectory.c2w[chunk.start].clone(), torch.as_tensor(scale, dtype=trajectory.c2w.dtype))
    c2w = norm.apply(trajectory.c2w[chunk.start:chunk.stop])
    c2w[0] = torch.eye(4, dtype=c2w.dtype)  # inv(T) T, exactly (not up to rounding)
    return Cameras(c2w, trajectory.K[chunk.start:chunk.stop], trajectory.height, trajectory.width), norm


def find_jump(trajectory: Cameras) -> tuple[int, str] | None:
    """-> (i, what) for the first step i -> i+1 far beyond the path's typical step, or None.

    Translation: typical = the median over the steps that move at all, so a path that stands still for a
    while (or turns on the spot) does not make every later movement a jump; a step > JUMP_FACTOR x typical
    is a jump, and so is any move of a path that otherwise stands still (fewer than 3 moving steps): the
    models scale every clip to unit extent, so to them a lone step is a unit teleport, whatever its size.
    Rotation: a step > max(JUMP_FACTOR x the median step, MIN_JUMP_DEGREES)."""
    c2w = trajectory.c2w.double()
    centers = c2w[:, :3, 3]
    extent = float((centers - centers[0]).norm(dim=-1).max())
    steps = (centers[1:] - centers[:-1]).norm(dim=-1)  # (N-1,)
    moving = steps > 1e-9 * (1 + extent)
    if 0 < int(moving.sum()) < 3:
        i = int(moving.nonzero()[0])
        return i, f"moves {float(steps[i]):.4g} units while the rest of the path stands still"
    if moving.any():
        typical = float(steps[moving].median())
        bad = (steps > JUMP_FACTOR * typical).nonzero()
        if len(bad):
            i = int(bad[0])
            return i, f"moves {float(steps[i]):.4g} units, {float(steps[i]) / typical:.0f}x the typical step " \
                      f"{typical:.4g}"
    angles = torch.rad2deg(geodesic_angle(c2w[:-1, :3, :3], c2w[1:, :3, :3]))
    typical = float(angles.median())
    limit = max(JUMP_FACTOR * typical, MIN_JUMP_DEGREES)
    bad = (angles > limit).nonzero()
    if len(bad):
        i = int(bad[0])
        return i, f"turns {float(angles[i]):.3g} degrees (typical step {typical:.3g}, limit {limit:.3g})"
    return None


def check_jumps(trajectory: Cameras, source=None) -> None:
    """InputError naming the frame where the path jumps (see `find_jump`)."""
    found = find_jump(trajectory)
    if found is not None:
        i, what = found
        raise InputError(source, f"frames[{i + 1}]", f"the camera jumps from frame {i} to {i + 1}: it {what}; "
                         f"a long walk must move smoothly (at most {JUMP_FACTOR:g}x its typical step)")
