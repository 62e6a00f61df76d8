"""Step 5 of the demo recipe: VideoRFSplat's pose stream for an existing family (`--trajectory auto`).

The family's video model stays frozen (its base: `stage=camera` freezes the base; the camera branches get no input,
`model.pose_free=true`, so neither they nor the LoRA take part); what trains is the pose DiT and its communication
blocks, through the product trainer (`camera_video.train model.pose_stream=true`) on the family's latent cache of
the recipe's training scenes (`wonderland-synth`, TRAIN_SEED). The stream is added to the family with
`wonderland.pipeline.pose.attach_pose_stream` (component folder `pose_stream/`, manifest key `pose_stream`).

    python scripts/train_demo_pose_stream.py --family models/wonderland-demo
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from .common import TRAIN_SEED, write_scenes
from .video_stage import CONFIG_DIR, encode_clips, video_overrides

log = logging.getLogger(__name__)

def pose_overrides(family: Path, cache: Path, out: Path, steps: int, batch: int, lr: float, seed: int) -> list[str]:
    """`camera_video.train` overrides: the demo stage's, from the family's base, plus the pose stream (its sizes:
    `configs/camera_video/model/demo.yaml` `pose:`)."""
    return [*video_overrides("camera", cache, out, steps, batch, lr, seed, family / "base"),
            "model.pose_stream=true", "model.pose_free=true"]


def train_pose_stream(family: Path, work: Path, scenes: int = 64, steps: int = 400, batch: int = 8,
                      lr: float = 1e-3, seed: int = 2) -> tuple[Path, dict]:
    """Train a pose stream for `family` -> (its folder `<work>/pose/model/pose_stream`, summary of the run)."""
    from camera_video.train import train
    from wonderland.hydra_entry import compose
    from wonderland.training import read_log

    from ..vae import load_vae

    t0 = time.perf_counter()
    root = write_scenes(work / "data" / "train", scenes, TRAIN_SEED)
    cache = work / "pose_cache"
    if not (cache / "done").is_file():
        encode_clips(load_vae(family / "base"), root, cache)
        (cache / "done").write_text("ok\n")
    out = work / "pose"
    result = train(compose(CONFIG_DIR, pose_overrides(family, cache, out, steps, batch, lr, seed)))
    rows = read_log(out)
    n = max(1, len(rows) // 10)

    def mean(key, part):
        vals = [r[key] for r in part if key in r]
        return sum(vals) / len(vals) if vals else None

    summary = {"steps": result.step, "batch": batch, "lr": lr, "seed": seed, "train_scenes": scenes,
               "train_seed": TRAIN_SEED, "first_pose_loss": mean("pose", rows[:n]),
               "last_pose_loss": mean("pose", rows[-n:]), "first_video_loss": mean("video", rows[:n]),
               "last_video_loss": mean("video", rows[-n:]), "seconds": time.perf_counter() - t0}
    return result.model_dir / "pose_stream", summary


def main(argv=None) -> int:
    """Step 5 of `make demo-models`: train, add to the family, measure (`pose_eval`), write the card's PNG."""
    import json
    import shutil
    from argparse import ArgumentParser

    import torch

    from ..checks import positive_int
    from ..io import write_json
    from ..pipeline.pose import attach_pose_stream
    from .pose_eval import evaluate_pose_stream

    p = ArgumentParser(prog="train_demo_pose_stream.py", description=__doc__)
    p.add_argument("--family", type=Path, default=Path("models/wonderland-demo"))
    p.add_argument("--work", type=Path, default=Path("outputs/demo_pose_stream"))
    p.add_argument("--scenes", type=positive_int, default=64, help="training scenes (the recipe's, TRAIN_SEED)")
    p.add_argument("--steps", type=positive_int, default=500)
    p.add_argument("--eval-scenes", type=positive_int, default=6, help="held-out test images for the card's numbers")
    p.add_argument("--threads", type=positive_int, default=2)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    component, summary = train_pose_stream(args.family, args.work, args.scenes, args.steps)
    folder = attach_pose_stream(args.family, component)
    summary["evaluation"] = evaluate_pose_stream(args.family, args.work, args.eval_scenes, args.scenes,
                                                 plot=args.family / "frames" / "pose_paths.png")
    write_json(folder / "training.json", summary)
    shutil.rmtree(args.work / "pose" / "checkpoints", ignore_errors=True)
    print(json.dumps(summary, indent=1))
    return 0
