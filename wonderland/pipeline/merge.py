"""One scene from a long walk's chunks (SPEC.md section 9): the merge policies `previous` and `align`.

Every chunk's Gaussians are pixel-aligned, (F, Hg, Wg) of them in frame-major order (one per pixel of
each frame's Gaussian map), and already placed in the trajectory's world frame with the known cameras.

previous: chunk 0 is kept whole. A Gaussian of chunk k >= 1 is dropped when
  (a) it comes from one of the chunk's first `shared` frames, views the previous chunk already made (the
      conditioning frame and the rest of the overlap), or
  (b) an earlier chunk already covers it: its centre projects, in some frame of an earlier chunk, inside
      that frame's Gaussian map, in front of the camera, at a depth of at least (1 - DEPTH_TOLERANCE) x
      the depth of that frame's own Gaussian at that pixel, i.e. on or behind the surface the earlier
      chunk saw there. Gaussians clearly in front of every earlier surface are new (an occluder the
      earlier chunks did not show) and are kept.
  The scene grows with what is new, not with the number of chunks.
align: first, chunk k's Gaussians are moved by the similarity (Sim(3), Umeyama) that best maps the centres
  of its overlap frames' Gaussians onto the already merged previous chunk's centres at the same frames
  and pixels, weighted by the smaller of the two opacities (translucent fog says little about where a
  surface is), with Horn's symmetric scale (both sides are noisy takes; Umeyama's scale would shrink the
  new chunk: 0.74 instead of 1.01 on the bundled family's orbit); then (a) and (b) as above. It corrects
  the scale and offset between two takes of the same views; it needs an overlap of at least
  MIN_ALIGN_OVERLAP frames (a baseline, as Lyra 2's fit).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..gaussians import Gaussians
from ..geometry import Cameras, PoseNormalization, geodesic_angle, umeyama
from ..trajectories.chunks import Chunk

POLICIES = ("previous", "align")
DEPTH_TOLERANCE = 0.05
MIN_ALIGN_OVERLAP = 3


@dataclass
class ChunkMerge:
    kept: int
    dropped_overlap: int  # rule (a)
    dropped_covered: int  # rule (b)
    alignment: dict | None = None  # `align` only: scale, rotation_degrees, translation, rms_before/after


def move(g: Gaussians, sim: PoseNormalization) -> Gaussians:
    """Unbatched Gaussians (G,) under the similarity x -> reference · (scale x)."""
    from lalrm.inference import to_world

    batched = Gaussians(g.means[None], g.quats[None], g.scales[None], g.opacities[None], g.colors[None])
    like = g.means  # to_world maps means with the normaliser's own dtype: give it the Gaussians' one
    out = to_world(batched, PoseNormalization(sim.reference[None].to(like), sim.scale.reshape(1).to(like)))
    return Gaussians(out.means[0], out.quats[0], out.scales[0], out.opacities[0], out.colors[0])


def own_depths(g: Gaussians, cams: Cameras) -> Tensor:
    """Pixel-aligned Gaussians (F*n,) of cameras (F,) -> (F, n) camera-space z of each frame's own Gaussians."""
    _, z = cams.to(g.means).project(g.means.view(len(cams), -1, 3))
    return z


def covered_by(means: Tensor, cams: Cameras, depths: Tensor, tol: float = DEPTH_TOLERANCE,
               budget: int = 2**24) -> Tensor:
    """means (n, 3); cams (F,) at the Gaussian-map size (hg, wg); depths (F, hg, wg) -> bool (n,): on or
    behind the surface that some frame saw at the pixel the point projects to. Frames are taken in groups
    of about `budget` (frame, point) pairs."""
    hg, wg = depths.shape[-2:]
    out = torch.zeros(len(means), dtype=torch.bool, device=means.device)
    cams = cams.to(means)
    step = max(1, budget // max(1, len(means)))
    for f0 in range(0, len(cams), step):
        uv, z = cams[f0:f0 + step].project(means[None])  # (b, n, 2), (b, n)
        uv = torch.nan_to_num(uv, nan=-1.0, posinf=-1.0, neginf=-1.0)
        u, v = uv.unbind(-1)
        inside = (z > 0) & (u >= 0) & (u < wg) & (v >= 0) & (v < hg)
        pixel = v.clamp(0, hg - 1).long() * wg + u.clamp(0, wg - 1).long()  # (b, n)
        d = depths[f0:f0 + step].flatten(1).gather(1, pixel)
        out |= (inside & (z >= (1 - tol) * d)).any(0)
    return out


def fit_alignment(prev: Gaussians, new: Gaussians, chunk: Chunk, per_frame: int) -> tuple[PoseNormalization, dict]:
    """Sim(3) mapping `new` (chunk k) onto `prev` (chunk k-1, merged frame) on their shared frames."""
    off, m = chunk.conditioning_offset, chunk.shared
    dst = prev.means.view(-1, per_frame, 3)[off:off + m].reshape(-1, 3)
    src = new.means.view(-1, per_frame, 3)[:m].reshape(-1, 3)
    w = torch.minimum(prev.opacities.view(-1, per_frame)[off:off + m], new.opacities.view(-1, per_frame)[:m])
    w = w.reshape(-1).double().clamp_min(1e-6)
    sim = umeyama(src, dst, w, symmetric_scale=True)  # two noisy takes: Umeyama's own scale would shrink

    def rms(a: Tensor) -> float:
        return float(((w * ((a.double() - dst.double()) ** 2).sum(-1)).sum() / w.sum()).sqrt())

    moved = sim.points_to_world(src.double())
    info = {"scale": float(sim.scale),
            "rotation_degrees": float(torch.rad2deg(geodesic_angle(sim.reference[:3, :3],
                                                                   torch.eye(3, dtype=torch.float64)))),
            "translation": [float(x) for x in sim.reference[:3, 3]],
            "rms_before": rms(src), "rms_after": rms(moved), "points": len(src)}
    return sim, info


def merge_chunks(gaussians: list[Gaussians], cameras: list[Cameras], chunks: list[Chunk],
                 map_size: tuple[int, int], policy: str = "previous") -> tuple[Gaussians, list[ChunkMerge]]:
    """Per-chunk pixel-aligned Gaussians (F*hg*wg,) in world units + their cameras (F,) -> one scene (G,)."""
    if policy not in POLICIES:
        raise ValueError(f"merge policy {policy!r}; expected one of {POLICIES}")
    hg, wg = map_size
    n = hg * wg
    placed: list[Gaussians] = []
    depths: list[Tensor] = []  # (F, hg, wg) per chunk
    small = [c.resize(hg, wg) for c in cameras]
    parts, infos = [], []
    for k, (g, chunk) in enumerate(zip(gaussians, chunks)):
        frames = len(cameras[k])
        if g.num != frames * n:
            raise ValueError(f"chunk {k}: {g.num} Gaussians, expected {frames} frames x {hg} x {wg}")
        alignment = None
        if k and policy == "align":
            sim, alignment = fit_alignment(placed[k - 1], g, chunk, n)
            g = move(g, sim)
        placed.append(g)
        depths.append(own_depths(g, small[k]).view(frames, hg, wg))
        frame = torch.arange(frames, device=g.means.device).repeat_interleave(n)
        overlap = frame < chunk.shared  # rule (a); empty for chunk 0
        candidates = (~overlap).nonzero().squeeze(-1)
        covered = torch.zeros_like(overlap)
        for j in range(k):  # rule (b)
            todo = candidates[~covered[candidates]]
            covered[todo] = covered_by(g.means[todo], small[j], depths[j])
        keep = ~overlap & ~covered
        parts.append(g.select(keep))
        infos.append(ChunkMerge(int(keep.sum()), int(overlap.sum()), int((covered & ~overlap).sum()), alignment))
    return Gaussians.cat(parts), infos
