"""Training entry point: `python -m camera_video.train model=full data=mixed [stage=camera|base] [trainer=...]`.

`stage=camera` (the paper's recipe) trains the camera branches on a frozen base; `stage=base` pre-trains a whole
stock CogVideoX transformer on the same image-to-video objective (small configs have no released base). The
entry point only parses and checks the config; `train(cfg)` adds the model, data and loss to the shared loop
(`wonderland.training.fit`: checkpoints, `resume=auto`, run log, mixed precision, the final `<output_dir>/model`)
and is what tests call. Every random draw of a step (clip order, noise, timesteps) comes from (seed, step), so a
resumed run continues bit-identically.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from wonderland.training import FitResult, Shuffled, Task, fit, make_accelerator

from .config import TrainConfig, to_schema
from .data import PromptEmbeddings, build_datasets, collate, prepare_batch
from .loss import StockI2V, i2v_loss
from .models import BASE_5B_I2V, BASE_SMALL, BASE_TINY, SCHEDULER_5B_I2V, CameraControlConfig, parameter_report
from .models.build import build_camera_transformer, load_base, load_camera_into

BASES = {"5b_i2v": BASE_5B_I2V, "small": BASE_SMALL, "tiny": BASE_TINY}
CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs" / "camera_video"


def camera_config(cfg: TrainConfig) -> CameraControlConfig:
    return CameraControlConfig(**cfg.model.camera)


def build_model(cfg: TrainConfig, dtype: torch.dtype = torch.float32, meta: bool = False):
    """stage=camera: a `CameraVideoTransformer` (fresh or `init_camera_weights`); stage=base: `StockI2V`."""
    if cfg.stage.name == "base":
        from accelerate import init_empty_weights
        from diffusers import CogVideoXTransformer3DModel

        with torch.random.fork_rng(devices=[]), (init_empty_weights() if meta else torch.no_grad()):
            torch.manual_seed(cfg.model.init_seed)
            base = load_base(cfg.model.pretrained, dtype) if cfg.model.pretrained and not meta else \
                CogVideoXTransformer3DModel(**BASES[cfg.model.base])
        return StockI2V(base.requires_grad_(True))
    with torch.random.fork_rng(devices=[]):  # a random base (no `pretrained`) is a function of model.init_seed
        torch.manual_seed(cfg.model.init_seed)
        model = build_camera_transformer(camera_config(cfg), BASES[cfg.model.base],
                                         pretrained=None if meta else cfg.model.pretrained, dtype=dtype, meta=meta)
    if cfg.model.init_camera_weights and not meta:
        load_camera_into(model, cfg.model.init_camera_weights)
    if cfg.model.pose_stream:
        attach_pose(model, cfg, meta)
    return model


def attach_pose(model, cfg: TrainConfig, meta: bool = False):
    """The configured pose stream (`model.pose`) on `model` (on `meta`: sizes only) -> the stream."""
    from accelerate import init_empty_weights

    from .models import PoseStream, PoseStreamConfig

    with init_empty_weights() if meta else torch.random.fork_rng(devices=[]):
        if not meta:
            torch.manual_seed(cfg.model.init_seed + 1)
        return model.attach_pose_stream(PoseStream.for_video(model.config, PoseStreamConfig(**cfg.model.pose)))


def build_vae_and_scheduler(cfg: TrainConfig):
    from diffusers import CogVideoXDPMScheduler

    from wonderland.vae import build_tiny_vae, load_vae

    pretrained = cfg.model.pretrained
    has_vae = pretrained is not None and (Path(pretrained) / "vae").is_dir()
    if pretrained is not None and (Path(pretrained) / "scheduler").is_dir():
        scheduler = CogVideoXDPMScheduler.from_pretrained(pretrained, subfolder="scheduler")
    else:  # random/tiny runs, or a base stage's model folder: the CogVideoX-5B-I2V scheduler
        scheduler = CogVideoXDPMScheduler(**SCHEDULER_5B_I2V)
    if cfg.data.kind == "cache":
        return None, scheduler
    if has_vae:
        return load_vae(pretrained), scheduler
    with torch.random.fork_rng(devices=[]):  # the seeded tiny VAE, so every run and the cache agree
        torch.manual_seed(cfg.data.seed)
        scale = {"scaling_factor": cfg.model.vae_scaling_factor} if cfg.model.vae_scaling_factor else {}
        vae = build_tiny_vae(cfg.data.height, cfg.data.width, **scale).eval().requires_grad_(False)
    return vae, scheduler


def dry_run(cfg: TrainConfig) -> dict:
    """Parameters of the configured model on `meta` and a memory estimate per process; allocates nothing."""
    from .memory import estimate_training_memory

    model = build_model(cfg, meta=True)
    if cfg.stage.name == "base":
        counts = {"base": sum(p.numel() for p in model.parameters())}
        counts["trainable"] = counts["total"] = counts["base"]
        print(f"{'base':>16s}: {counts['base']:,} (stage=base: every parameter trains)")
        return {"parameters": counts}
    counts = parameter_report(model)
    memory = estimate_training_memory(counts, model.config, cfg)
    for k, v in counts.items():
        print(f"{k:>16s}: {v:,}")
    pose = pose_stream_report(model, cfg)
    print(f"{'pose stream':>16s}: {pose['total']:,} (pose DiT {pose['pose_dit']:,} + {pose['comm_count']} "
          f"communication blocks {pose['comm_blocks']:,}; "
          f"{'attached' if cfg.model.pose_stream else 'not attached: model.pose_stream=true'})")
    print("memory per process, micro-batch of 1 clip (estimate):")
    for k, v in memory.items():
        print(f"{k:>16s}: {v / 2**30:.1f} GiB")
    return {"parameters": counts, "memory_bytes": memory, "pose_stream": pose}


def pose_stream_report(model, cfg: TrainConfig) -> dict[str, int]:
    """Parameters of the configured pose stream (the attached one, else one built on `meta` for the report)."""
    stream = model.pose_stream if model.pose_stream is not None else \
        attach_pose(copy.copy(model), cfg, meta=True)
    dit = sum(p.numel() for n, p in stream.named_parameters() if not n.startswith("comm."))
    comm = sum(p.numel() for p in stream.comm.parameters())
    return {"pose_dit": dit, "comm_blocks": comm, "comm_count": len(stream.comm), "total": dit + comm}


def _trainable_in_fp32(model):
    """Trainable weights in fp32 (autocast does the compute); a pretrained frozen base may stay in bf16."""
    for p in model.parameters():
        if p.requires_grad:
            p.data = p.data.float()
    return model


def train(cfg) -> FitResult | dict:
    """Train the configured stage; -> the `FitResult` (`result.model_dir` = `<output_dir>/model` when done), or the
    dry run's sizes."""
    cfg = to_schema(cfg)
    t = cfg.trainer
    if t.dry_run:
        return dry_run(cfg)
    acc = make_accelerator(t)
    base_dtype = torch.bfloat16 if t.mixed_precision == "bf16" and cfg.model.pretrained else torch.float32
    model = _trainable_in_fp32(build_model(cfg, dtype=base_dtype))
    vae, scheduler = build_vae_and_scheduler(cfg)
    vae = vae.to(acc.device) if vae is not None else None
    c = model.config
    prompts = PromptEmbeddings(cfg.data.prompt_cache, c.max_text_seq_length, c.text_embed_dim, cfg.data.seed)
    train_set, val_set = build_datasets(cfg.data)
    camera = cfg.stage.name == "camera"

    pose = cfg.model.pose_stream

    def loss(model, items: dict, generator: torch.Generator) -> dict[str, torch.Tensor]:
        inputs = prepare_batch(items, prompts, vae, generator)
        if not camera or (pose and cfg.model.pose_free):
            inputs.pop("plucker")
        if pose:
            from .pose_loss import joint_loss, pose_targets

            lat = inputs["latents"]
            inputs["pose_rays"] = pose_targets(items["c2w"].float(), items["K"].float(), lat.shape[-2] * 8,
                                               lat.shape[-1] * 8, lat.shape[2])
            inputs = {k: v.to(acc.device) for k, v in inputs.items()}
            return joint_loss(model, scheduler, inputs, generator, cfg.model.video_loss_weight,
                              cfg.model.pose_loss_weight)
        inputs = {k: v.to(acc.device) for k, v in inputs.items()}
        return {"loss": i2v_loss(model, scheduler, inputs, generator)}

    def after_step(step: int, core) -> None:
        v = cfg.validation
        if v.every and step % v.every == 0 and acc.is_main_process and val_set is not None:
            from .validate import validate

            validate(core, vae, scheduler, val_set, prompts, cfg, step, acc)

    def save_model(core, folder: Path) -> None:
        core.save_camera(folder) if camera else core.base.save_pretrained(folder)
        if core_pose_stream(core) is not None:
            core.pose_stream.save_pretrained(folder / "pose_stream")

    task = Task(f"camera_video-{cfg.stage.name}", model, Shuffled(train_set, t.seed), loss, collate=collate,
                trainable_only_checkpoints=True, save_model=save_model, after_step=after_step)
    return fit(acc, task, t, cfg.optim, config=asdict(cfg))


def core_pose_stream(core):
    return getattr(core, "pose_stream", None)


def main(argv: list[str] | None = None) -> int:
    from wonderland.hydra_entry import hydra_main

    return hydra_main(argv, prog="camera_video.train", config_dir=CONFIG_DIR, build=to_schema, run=train)


if __name__ == "__main__":
    sys.exit(main())
