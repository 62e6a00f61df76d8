"""torch Datasets over scene collections: video clips (`camera_video`) and clips + supervision views (`lalrm`).

One item per scene and epoch. Everything random about an item (stride, start, views, replacement scene)
comes from `random.Random(f"{seed}/{epoch}/{index}/{attempt}")`, so an item is the same in any worker,
any process and any run; call `set_epoch` between epochs (workers that are not persistent pick it up).

Robustness: a scene that cannot give a sample (missing/corrupt frames, bad poses, too few frames, an
unreadable camera file) is skipped with one warning line and another scene is drawn deterministically.
Each item reports the skips that happened while making it in `skipped` (LongTensor over SKIP_REASONS),
so the counts survive worker processes and collation; `SkipCounter` sums them for the training log.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset

from wonderland.geometry import PoseNormalization, normalize_poses

from .sampling import clip_span, sample_clip, sample_supervision_views
from .scene import SKIP_REASONS, CorruptSampleError, Scene, check_cameras

log = logging.getLogger(__name__)


class SkipCounter:
    """Skip counts by reason, summed over batches (`update(batch["skipped"])`), reported per epoch."""

    def __init__(self):
        self.counts: Counter[str] = Counter()

    def update(self, skipped: Tensor | Mapping[str, int]) -> None:
        if isinstance(skipped, Mapping):
            self.counts.update({k: int(v) for k, v in skipped.items()})
            return
        totals = skipped.reshape(-1, len(SKIP_REASONS)).sum(0).tolist()
        self.counts.update({r: n for r, n in zip(SKIP_REASONS, totals) if n})

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        detail = ", ".join(f"{r} {self.counts[r]}" for r in SKIP_REASONS if self.counts[r])
        return f"skipped {self.total} samples" + (f" ({detail})" if detail else "")

    def reset(self) -> None:
        self.counts.clear()


class VideoClipDataset(Dataset):
    """Items: frames (F, 3, H, W) in [0, 1]; c2w (F, 4, 4) relative to frame 0 and scale-normalised; K (F, 3, 3)
    in pixels of (H, W); scale (): dataset units per normalised unit; key; indices (F,); stride; skipped (R,).

    The stride is drawn from the `strides` that fit the video (a short video uses a smaller stride)."""

    def __init__(self, scenes: Sequence[Scene], num_frames: int = 49, height: int = 480, width: int = 720,
                 strides: Sequence[int] = (3, 4, 5), seed: int = 0, max_attempts: int = 100):
        if not len(scenes):
            raise ValueError("VideoClipDataset: no scenes")
        self.scenes, self.num_frames, self.height, self.width = scenes, num_frames, height, width
        self.strides, self.seed, self.max_attempts, self.epoch = tuple(strides), seed, max_attempts, 0
        self.skipped: Counter[str] = Counter()  # this process's skips; batches carry them across workers

    def __len__(self) -> int:
        return len(self.scenes)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, index: int) -> dict:
        skipped = torch.zeros(len(SKIP_REASONS), dtype=torch.long)
        last = None
        for attempt in range(self.max_attempts):
            rng = random.Random(f"{self.seed}/{self.epoch}/{index}/{attempt}")
            pick = index if attempt == 0 else rng.randrange(len(self.scenes))
            try:
                scene = self.scenes[pick]
                return self.make_item(scene, rng) | {"skipped": skipped}
            except CorruptSampleError as e:
                last = e
                log.warning("skipping sample: %s", e)
                self.skipped[e.reason] += 1
                skipped[SKIP_REASONS.index(e.reason)] += 1
        raise RuntimeError(f"{self.max_attempts} scenes in a row could not give a sample (the last: {last}); "
                           "is the dataset broken, or are num_frames / strides too long for its videos?")

    def make_item(self, scene: Scene, rng: random.Random) -> dict:
        return self._clip_item(scene, rng)[0]

    def _clip_item(self, scene: Scene, rng: random.Random) -> tuple[dict, list[int], PoseNormalization]:
        check_cameras(scene.key, scene.cameras)
        fits = [s for s in self.strides if clip_span(self.num_frames, s) <= scene.num_frames]
        if not fits:
            raise CorruptSampleError(scene.key, "too_few_frames", f"{scene.num_frames} frames cannot hold a clip "
                                     f"of {self.num_frames} at any stride of {self.strides}")
        stride = rng.choice(fits)
        clip = sample_clip(scene.num_frames, self.num_frames, stride, rng)
        frames, cams = scene.load_frames(clip, self.height, self.width)  # (F, 3, H, W)
        c2w, norm = normalize_poses(cams.c2w)
        item = {"frames": frames, "c2w": c2w.float(), "K": cams.K.float(), "scale": norm.scale.float(),
                "key": scene.key, "indices": torch.tensor(clip), "stride": stride}
        return item, clip, norm


class ReconstructionDataset(VideoClipDataset):
    """`VideoClipDataset` items plus V = num_seen + num_unseen supervision views (seen first):
    sup_frames (V, 3, h, w), sup_c2w (V, 4, 4) in the clip's normalised frame, sup_K (V, 3, 3) in pixels of
    (h, w), sup_is_seen (V,) bool, sup_indices (V,). (h, w) defaults to the clip's (H, W).
    View choice and its fallbacks for short videos: `sample_supervision_views`."""

    def __init__(self, scenes: Sequence[Scene], num_frames: int = 49, height: int = 480, width: int = 720,
                 strides: Sequence[int] = (3, 4, 5), num_seen: int = 24, num_unseen: int = 24,
                 sup_height: int | None = None, sup_width: int | None = None, seed: int = 0, max_attempts: int = 100):
        super().__init__(scenes, num_frames, height, width, strides, seed, max_attempts)
        self.num_seen, self.num_unseen = num_seen, num_unseen
        self.sup_height, self.sup_width = sup_height or height, sup_width or width

    def make_item(self, scene: Scene, rng: random.Random) -> dict:
        item, clip, norm = self._clip_item(scene, rng)
        seen, unseen = sample_supervision_views(scene.num_frames, clip, self.num_seen, self.num_unseen, rng)
        views = seen + unseen
        if (self.sup_height, self.sup_width) == (self.height, self.width):  # seen frames are already decoded
            pos = {f: j for j, f in enumerate(clip)}
            new, cams = scene.load_frames(unseen, self.height, self.width)
            frames = torch.cat([item["frames"][[pos[f] for f in seen]], new])
            K = torch.cat([item["K"][[pos[f] for f in seen]], cams.K.float()])
            c2w = torch.cat([scene.cameras.c2w[seen], cams.c2w])
        else:
            frames, cams = scene.load_frames(views, self.sup_height, self.sup_width)
            K, c2w = cams.K.float(), cams.c2w
        return item | {"sup_frames": frames, "sup_c2w": norm.apply(c2w).float(), "sup_K": K,
                       "sup_is_seen": torch.arange(len(views)) < len(seen), "sup_indices": torch.tensor(views)}
