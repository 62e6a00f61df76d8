"""Stage 4: the tiny LaLRM, trained by `lalrm.train.train` itself on latents of the trained VAE.

The config is the project's Hydra composition `model=tiny data=synthetic trainer=smoke` with the demo's
overrides: the demo VAE instead of the seeded random one, the demo's training scenes, 9-frame clips at
stride 6 (spanning all 49 frames, so the pose normalisation matches a 49-frame inference trajectory), no
perceptual loss (no VGG weights offline), and a short warm-up.
"""

from __future__ import annotations

import json
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs" / "lalrm"


def lalrm_overrides(data_root: Path, vae_dir: Path, out: Path, steps: int, batch: int = 2, lr: float = 1e-3,
                    init_from: Path | None = None) -> list[str]:
    init = [] if init_from is None else [f"stage.init_from={Path(init_from).resolve()}"]
    return ["stage=lowres", "model=tiny", "data=synthetic", "trainer=smoke", f"output_dir={out}",
            f"data.sources.synthetic.root={data_root}", "data.sources.synthetic.strides=[6]",
            f"vae.path={vae_dir}", "vae.tiny=false", "loss.perceptual=0.0", f"trainer.max_steps={steps}",
            f"trainer.checkpoint_every={max(steps, 1)}", "trainer.log_every=10", "trainer.keep_last=1",
            "trainer.gradient_checkpointing=false", f"stage.batch_size={batch}", f"stage.lr={lr}",
            f"stage.min_lr={lr / 10}", f"optim.warmup_steps={min(50, steps // 5)}"] + init


def train_lalrm(data_root: Path, vae_dir: Path, out: Path, steps: int, lr: float = 1e-3,
                init_from: Path | None = None) -> dict:
    """Runs `lalrm.train.train` for `steps` steps (the model lands in `<out>/model`), from scratch or from the
    weights in `init_from` (`stage.init_from`: a save_pretrained dir); returns its log summary."""
    import time

    from hydra import compose, initialize_config_dir

    from lalrm.train import train

    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides=lalrm_overrides(data_root, vae_dir, out, steps, lr=lr, init_from=init_from))
    t0 = time.perf_counter()
    train(cfg)
    seconds_used = time.perf_counter() - t0
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return {"steps": log[-1]["step"], "seconds": seconds_used, "first_psnr": log[0]["psnr"],
            "last_psnr": log[-1]["psnr"], "last_loss": log[-1]["loss"], "lr": lr,
            "init_from": None if init_from is None else str(init_from)}
