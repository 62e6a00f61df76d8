"""Stages 2 and 3: the small CogVideoX I2V base, then its camera branches on the frozen base, both trained by
the product trainer itself (`camera_video.train`, `stage=base` then `stage=camera`).

There is no pretrained small CogVideoX, so stage 2 pretrains the stock `CogVideoXTransformer3DModel`
(`BASE_SMALL`, `configs/camera_video/model/demo.yaml`) on the I2V objective with no camera; stage 3 is the paper's
recipe on top of it. The clips are encoded once with the trained VAE into the project's latent cache
(`camera_video.cache.cache_video_latents`: latents + the I2V recipe's noisy image latent + cameras), which both
stages read (`data.kind=cache`): encoding would dominate otherwise.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .common import HEIGHT, NUM_FRAMES, WIDTH

log = logging.getLogger(__name__)
CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs" / "camera_video"


def encode_clips(vae, data_root: Path, out: Path, clips_per_scene: int = 1, seed: int = 0) -> Path:
    """Every 49-frame scene of a wonderland-synth root (stride 1) -> a latent cache at `out` (resumable)."""
    from camera_video.cache import cache_video_latents
    from camera_video.data import DataConfig, build_datasets

    dataset, _ = build_datasets(DataConfig(kind="re10k", root=str(data_root), num_frames=NUM_FRAMES, height=HEIGHT,
                                           width=WIDTH, strides=[1], val_scenes=0, seed=seed))
    cache_video_latents(dataset, vae, out, clips_per_scene, seed)
    return out


def video_overrides(stage: str, cache: Path, out: Path, steps: int, batch: int = 8, lr: float = 1e-3, seed: int = 0,
                    pretrained: Path | None = None, device: str = "auto") -> list[str]:
    """`camera_video.train` overrides of a demo stage: the demo model, the cache, and the recipe's schedule
    (`wsd`: constant for half the run, then linearly down to 10%)."""
    extra = [] if pretrained is None else [f"model.pretrained={Path(pretrained).resolve()}"]
    return ["model=demo", "data=synthetic", "trainer=smoke", f"stage={stage}", "data.kind=cache",
            f"data.root={Path(cache).resolve()}", "data.val_scenes=0", f"trainer.output_dir={Path(out).resolve()}",
            f"trainer.max_steps={steps}", f"trainer.batch_size={batch}", f"trainer.seed={seed}",
            f"trainer.checkpoint_every={max(1, steps // 4)}", "trainer.keep_last=1", "trainer.log_every=50",
            f"optim.lr={lr}", f"optim.min_lr={lr / 10}", "optim.schedule=wsd", "optim.warmup_steps=0",
            f"trainer.device={device}", *extra]


def train_stage(stage: str, cache: Path, out: Path, steps: int, seed: int, pretrained: Path | None = None,
                batch: int = 8, lr: float = 1e-3, device: str = "auto") -> tuple[Path, dict]:
    """Run one stage of `camera_video.train`; -> its `<out>/model` and a summary of its run log."""
    from camera_video.train import train
    from wonderland.hydra_entry import compose
    from wonderland.training import read_log

    cfg = compose(CONFIG_DIR, video_overrides(stage, cache, out, steps, batch, lr, seed, pretrained, device))
    result = train(cfg)
    rows = read_log(out)
    first, last = rows[: max(1, len(rows) // 10)], rows[-max(1, len(rows) // 10):]
    return result.model_dir, {"steps": result.step, "batch": batch, "lr": lr, "seed": seed,
                              "first_loss": sum(r["loss"] for r in first) / len(first),
                              "last_loss": sum(r["loss"] for r in last) / len(last)}
