"""Stage 4: the tiny LaLRM, trained by `lalrm.train.train` itself on latents of the trained VAE.

The config is the project's Hydra composition `model=tiny data=synthetic trainer=smoke` with the demo's
overrides: the demo VAE instead of the seeded random one, the demo's training scenes, clips spanning all 49
frames (so the pose normalisation matches a 49-frame inference trajectory), no perceptual loss (no VGG weights
offline), and a short warm-up. The first two steps of the recipe train on 9-frame clips (stride 6, 3 latent frames)
supervised at half size, 16 x 24, to keep the CPU renderer's cost down; the third continues on the whole 49-frame
clips (the 13 latent frames inference feeds it) supervised at the full 32 x 48.
"""

from __future__ import annotations

from pathlib import Path

from .common import HEIGHT, NUM_FRAMES, WIDTH

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs" / "lalrm"


def clip_stride(frames: int) -> int:
    """The frame stride at which a `frames`-frame clip spans all 49 frames of a scene (9 -> 6, 49 -> 1); a
    ValueError unless the clip is a whole number of 4-frame latent groups (plus frame 0) that spans them exactly."""
    if frames < 5 or (frames - 1) % 4 or (NUM_FRAMES - 1) % (frames - 1):
        raise ValueError(f"clip frames: expected 4k + 1 frames with (frames - 1) dividing {NUM_FRAMES - 1} "
                         f"(5, 9, 13, 17, 25 or 49), got {frames}")
    return (NUM_FRAMES - 1) // (frames - 1)


def lalrm_overrides(data_root: Path, vae_dir: Path, out: Path, steps: int, batch: int = 2, lr: float = 1e-3,
                    init_from: Path | None = None, frames: int = 9, full_res: bool = False,
                    color_tv: float = 0.0, device: str = "auto") -> list[str]:
    """The `lalrm.train` overrides of a demo run: `frames`-frame clips spanning every scene (`clip_stride`),
    supervised at the configs' 16 x 24 or, with `full_res`, at the rendered 32 x 48; `color_tv` weights the
    colour-map smoothness term (`loss.color_tv`)."""
    init = [] if init_from is None else [f"stage.init_from={Path(init_from).resolve()}"]
    sup = [f"stage.sup_height={HEIGHT}", f"stage.sup_width={WIDTH}"] if full_res else []
    return ["stage=lowres", "model=tiny", "data=synthetic", "trainer=smoke", f"trainer.output_dir={out}",
            f"data.sources.synthetic.root={data_root}", f"num_frames={frames}",
            f"data.sources.synthetic.strides=[{clip_stride(frames)}]",
            f"vae.path={vae_dir}", "vae.tiny=false", "loss.perceptual=0.0", f"loss.color_tv={color_tv}",
            f"trainer.max_steps={steps}",
            f"trainer.checkpoint_every={max(steps, 1)}", "trainer.log_every=10", "trainer.keep_last=1",
            "trainer.gradient_checkpointing=false", f"trainer.batch_size={batch}", f"optim.lr={lr}",
            f"optim.min_lr={lr / 10}", f"optim.warmup_steps={min(50, steps // 5)}", f"trainer.device={device}"
            ] + init + sup


def train_lalrm(data_root: Path, vae_dir: Path, out: Path, steps: int, lr: float = 1e-3,
                init_from: Path | None = None, frames: int = 9, full_res: bool = False, color_tv: float = 0.0,
                device: str = "auto") -> dict:
    """Runs `lalrm.train.train` for `steps` steps (the model lands in `<out>/model`), from scratch or from the
    weights in `init_from` (`stage.init_from`: a save_pretrained dir), on `frames`-frame clips, supervised at
    full size if `full_res`; returns its log summary."""
    import time

    from lalrm.train import train
    from wonderland.hydra_entry import compose
    from wonderland.training import read_log

    cfg = compose(CONFIG_DIR, lalrm_overrides(data_root, vae_dir, out, steps, lr=lr, init_from=init_from,
                                              frames=frames, full_res=full_res, color_tv=color_tv, device=device))
    t0 = time.perf_counter()
    train(cfg)
    seconds_used = time.perf_counter() - t0
    log = read_log(out)
    return {"steps": log[-1]["step"], "seconds": seconds_used, "first_psnr": log[0]["psnr"],
            "last_psnr": log[-1]["psnr"], "last_loss": log[-1]["loss"], "lr": lr,
            "init_from": None if init_from is None else str(init_from), "clip_frames": frames,
            "supervision": [cfg.stage.sup_height, cfg.stage.sup_width], "color_tv": color_tv,
            "last_color_tv": log[-1].get("color_tv")}
