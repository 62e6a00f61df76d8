"""Alignment entry point: `python -m wonderland.align model.family=<dir> data.root=<clips> [trainer=...]`.

VIST3A's direct reward fine-tuning (SPEC.md section 7) of a model family's camera-conditioned generator to its
own 3D decoder, on the shared training loop (`wonderland.training.fit`: checkpoints, `trainer.resume=auto`, run
log, mixed precision, grad clip, non-finite steps skipped and counted with `trainer.skip_nonfinite`). One step:

    L_gen  = the camera model's diffusion loss on a real clip (camera_video.loss.i2v_loss)
    rollout: the clip's first frame + its cameras -> latents (rollout.py: DRTune gradient on K + last steps)
    frames = VAE decode (with gradient); Gaussians = frozen LaLRM(latents, cameras); renders at `views` frames
    L      = loss.gen x L_gen - reward.consistency x r_3d - sum_q reward.quality[q] x r_q

Only the alignment-LoRA trains (and the camera branches with `lora.train_camera=true`); its EMA (`lora.ema_decay`)
is checkpointed with the run and is what `<output_dir>/model` (the alignment component, lora.py) holds.
Every random draw of a step (clip, noise, step count, gradient steps, views) comes from (seed, step): a resumed
run continues bit-identically.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from wonderland.errors import InputError
from wonderland.io import write_json
from wonderland.training import FitResult, Shuffled, Task, fit, make_accelerator

from .config import AlignConfig, to_schema
from .lora import LoraEMA, add_align_lora, align_parameters, save_component, set_trainable

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs" / "align"
log = logging.getLogger(__name__)


def lora_parameter_count(transformer_config: dict, rank: int, targets) -> int:
    """Parameters of a LoRA of `rank` on `targets` of every main block's attn1 (square inner x inner projections)."""
    inner = transformer_config["num_attention_heads"] * transformer_config["attention_head_dim"]
    return transformer_config["num_layers"] * len(targets) * rank * 2 * inner


def dry_run(cfg: AlignConfig) -> dict:
    """The alignment-LoRA's size for the family's transformer (or the 5B-I2V one); nothing allocated."""
    import json

    from camera_video.models import BASE_5B_I2V

    base = BASE_5B_I2V
    if cfg.model.family:
        from wonderland.pipeline.manifest import read_manifest

        base = json.loads((read_manifest(cfg.model.family).base / "transformer" / "config.json").read_text())
    counts = {"align_lora": lora_parameter_count(base, cfg.lora.rank, cfg.lora.targets)}
    r = cfg.rollout
    print(f"{'align_lora':>16s}: {counts['align_lora']:,} (rank {cfg.lora.rank}, {len(cfg.lora.targets)} projections "
          f"x {base['num_layers']} blocks)")
    print(f"{'rollout':>16s}: {r.min_steps}..{r.max_steps} steps, gradient on {r.grad_steps} random"
          f"{' + the last' if r.last_step else ''}")
    return {"parameters": counts}


class Parts:
    """The family's models (loaded through `WonderlandPipeline.from_pretrained`, the product's loading path) with
    the alignment-LoRA added to its camera model."""

    def __init__(self, cfg: AlignConfig, device: torch.device):
        from wonderland.pipeline import WonderlandPipeline

        pipe = WonderlandPipeline.from_pretrained(cfg.model.family, device=device, alignment=False)
        self.manifest = pipe.manifest
        vp = pipe.video_pipe
        self.transformer, self.vae, self.scheduler, self.lalrm = vp.transformer, vp.vae, vp.scheduler, pipe.lalrm
        self.transformer.requires_grad_(False)
        with torch.random.fork_rng(devices=[]):  # peft draws lora_A from the global RNG: seed it
            torch.manual_seed(cfg.trainer.seed)
            add_align_lora(self.transformer, cfg.lora.rank, cfg.lora.alpha, cfg.lora.targets)
        set_trainable(self.transformer, cfg.lora.train_camera)
        if pipe.prompt_embeds is not None:
            pos = pipe.prompt_embeds["prompt_embeds"]
            neg = pipe.prompt_embeds.get("negative_prompt_embeds", torch.zeros_like(pos))
        else:
            with torch.no_grad():
                pos = vp.encode_text([self.manifest.defaults.get("prompt", "")])
                neg = vp.encode_text([""])
        self.prompt, self.negative = pos.float(), neg.float()  # (1, L, D)
        d = self.manifest.defaults
        self.guidance_scale = cfg.rollout.guidance_scale if cfg.rollout.guidance_scale is not None \
            else float(d.get("guidance_scale", 6.0))


    def load_component(self, folder) -> None:
        """The LoRA values of a saved alignment component (its EMA) into this model's alignment-LoRA."""
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        from .lora import ADAPTER, WEIGHTS

        set_peft_model_state_dict(self.transformer.base, load_file(str(Path(folder) / WEIGHTS)), adapter_name=ADAPTER)


def datasets(cfg: AlignConfig, manifest):
    """(train, held-out) real clips at the family's size (camera_video's datasets)."""
    from camera_video.data import DataConfig, build_datasets

    d = cfg.data
    return build_datasets(DataConfig(kind=d.kind, root=d.root, num_frames=manifest.num_frames,
                                     height=manifest.height, width=manifest.width, strides=list(d.strides),
                                     num_scenes=d.num_scenes, val_scenes=d.val_scenes, seed=d.seed))


def load_lpips(cfg: AlignConfig):
    from wonderland.metrics import lpips_or_reason

    w = cfg.reward
    if w.lpips <= 0 or w.consistency <= 0:
        return None
    model, why = lpips_or_reason(w.lpips_net, w.lpips_heads, w.lpips_backbone)
    if model is None:
        raise InputError(None, "reward.lpips_heads", f"reward.lpips={w.lpips} needs the LPIPS weights ({why}); "
                         "or set reward.lpips=0 for an L1-only consistency reward")
    return model


def _check_paths(cfg: AlignConfig) -> None:
    """The run's inputs exist (one line naming the key, before anything loads): model.family is a model
    directory or a cached repo id; data.root a directory, except for synthetic scenes, which are written there."""
    from wonderland.pipeline.hub import resolve_model_dir

    try:
        resolve_model_dir(cfg.model.family)
    except InputError as e:
        raise InputError(None, "model.family", e.problem, value=cfg.model.family) from None
    d = cfg.data
    if d.kind != "synthetic" and not Path(d.root).is_dir():
        raise InputError(None, "data.root", f"no such directory (data kind {d.kind!r} reads clips from it)",
                         value=d.root)


def align(cfg) -> FitResult | dict:
    """Align the configured family; -> the `FitResult` (`result.model_dir` = the alignment component once
    `trainer.max_steps` is reached), or the dry run's sizes."""
    from .objective import make_loss
    from .reward import load_quality_scorers

    cfg = to_schema(cfg)
    t = cfg.trainer
    if t.dry_run:
        return dry_run(cfg)
    _check_paths(cfg)
    lpips = load_lpips(cfg)
    scorers, unavailable = load_quality_scorers(cfg.reward.quality, cfg.reward.quality_weights)
    acc = make_accelerator(t)
    parts = Parts(cfg, acc.device)
    if lpips is not None:
        lpips.to(acc.device)
    train_set, _ = datasets(cfg, parts.manifest)
    rewards = {"consistency": {"weight": cfg.reward.consistency, "lpips": cfg.reward.lpips if lpips else 0.0},
               **{f"quality.{k}": {"weight": cfg.reward.quality[k]} for k in scorers},
               **{f"quality.{k}": {"unavailable": why} for k, why in unavailable.items()}}
    for name, why in unavailable.items():
        log.warning("align: image-quality reward %s unavailable: %s", name, why)
    if acc.is_main_process:
        Path(t.output_dir).mkdir(parents=True, exist_ok=True)
        write_json(Path(t.output_dir) / "rewards.json", rewards)

    ema = LoraEMA(parts.transformer, cfg.lora.ema_decay)
    acc.register_for_checkpointing(ema)

    def save_model(core, folder: Path) -> None:
        with ema.swapped_in():
            save_component(core, folder, cfg.lora.rank, cfg.lora.alpha, cfg.lora.targets,
                           {"ema_decay": cfg.lora.ema_decay, "steps": t.max_steps, "family": parts.manifest.name,
                            "rewards": rewards}, camera=cfg.lora.train_camera)

    from camera_video.data import collate

    task = Task("align", parts.transformer, Shuffled(train_set, t.seed),
                make_loss(cfg, parts, lpips, scorers, acc.device), collate=collate,
                trainable_only_checkpoints=True, save_model=save_model, after_step=lambda step, core: ema.update())
    assert align_parameters(parts.transformer)
    return fit(acc, task, t, cfg.optim, config=asdict(cfg))


def main(argv: list[str] | None = None) -> int:
    from wonderland.hydra_entry import hydra_main

    return hydra_main(argv, prog="wonderland.align", config_dir=CONFIG_DIR, build=to_schema, run=align)


if __name__ == "__main__":
    sys.exit(main())
