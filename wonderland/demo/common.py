"""Sizes, data and small helpers shared by the demo recipe's stages and its evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

HEIGHT, WIDTH, NUM_FRAMES = 32, 48, 49  # latents 13 x 4 x 6: the tiny CogVideoX twin's native size
# wonderland-synth dataset seeds, disjoint scene sets: training, held-out validation (the VAE number and the choice
# between recipe runs), the demo's example image (wonderland/demo/assets.py: 2) and the test set the card reports.
TRAIN_SEED, HELDOUT_SEED, TEST_SEED = 0, 1, 3
SHOW = [0, 12, 24, 36, 48]  # the frames a PNG strip shows


@dataclass
class Clips:
    """Whole 49-frame scenes in memory: frames (N, F, 3, H, W) in [0, 1]; c2w (N, F, 4, 4) normalised
    (frame 0 = identity, farthest centre at 1); K (N, F, 3, 3) pixels; keys."""

    frames: Tensor
    c2w: Tensor
    K: Tensor
    keys: list[str]

    def __len__(self) -> int:
        return len(self.keys)


def write_scenes(root: Path, num_scenes: int, seed: int) -> Path:
    """Render the scenes once; an earlier dataset in `root` is reused only if it is exactly this one."""
    import json
    import shutil

    from wonderland.data.synth import write_synthetic_dataset

    meta = root / "wonderland-synth.json"
    want = {"num_scenes": num_scenes, "seed": seed, "num_frames": NUM_FRAMES, "height": HEIGHT, "width": WIDTH,
            "supersample": 1}
    if meta.is_file():
        have = json.loads(meta.read_text())
        if all(have.get(k, 1 if k == "supersample" else None) == v for k, v in want.items()):  # older: no key
            return root
        shutil.rmtree(root)  # another size or seed: never train on a dataset other than the one asked for
    write_synthetic_dataset(root, num_scenes, NUM_FRAMES, HEIGHT, WIDTH, seed=seed, workers=2)
    return root


def load_clips(root: Path) -> Clips:
    """Every scene of a wonderland-synth root as one clip of all its frames (stride 1)."""
    from wonderland.data import VideoClipDataset, open_scenes

    ds = VideoClipDataset(open_scenes("re10k", root), NUM_FRAMES, HEIGHT, WIDTH, strides=[1])
    items = [ds[i] for i in range(len(ds))]
    return Clips(torch.stack([it["frames"] for it in items]), torch.stack([it["c2w"] for it in items]),
                 torch.stack([it["K"] for it in items]), [it["key"] for it in items])


def save_strip(path: Path, rows: list[Tensor], scale: int = 4) -> None:
    """rows: (F, 3, H, W) videos in [0, 1]; writes frames SHOW of each as one grid image."""
    import imageio.v2 as imageio

    grid = torch.cat([torch.cat([r[i].clamp(0, 1) for i in SHOW], -1) for r in rows], -2)  # (3, R*H, 5*W)
    grid = grid.repeat_interleave(scale, -2).repeat_interleave(scale, -1)
    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.imwrite(path, (grid.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy())
