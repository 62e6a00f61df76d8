"""`python -m lalrm.stitching fit ...`: the label-free fine-tune of a stitched decoder (VIST3A step 2).

Each step: clips (frames + cameras, no 3D labels) -> the frozen VAE's latents -> the stitched decoder's outputs;
the frozen original 3D model on the same frames -> its outputs; loss = sum_k w_k L1(output_k, original_k) with the
per-output weights of `loss.weights`. What trains: the stitching conv, peft LoRA (rank `lora.rank`, alpha
`lora.alpha`) on the Linear/Conv layers the decoder keeps, and the adapter's `extra_trainable` parameters (layers
peft cannot wrap); `lora.rank=0` trains every kept layer in full instead. On the shared loop
(`wonderland.training.fit`): checkpoints hold only the trainable weights, `trainer.resume=auto` continues a run,
and `<output_dir>/model` is the decoder with the LoRA merged in: a plain `StitchedDecoder` folder that the
family manifest's `lalrm` entry can name.
"""

from __future__ import annotations

import copy
from dataclasses import asdict
from pathlib import Path

import torch
from torch import Tensor, nn

from wonderland.training import FitResult, Task, fit, make_accelerator

from .config import FitConfig, build_fit_config
from .data import clip_stream, collate_clips, rgb_inputs
from .decoder import StitchedDecoder

ADAPTER_NAME = "stitching"


def add_lora(decoder: StitchedDecoder, rank: int, alpha: float) -> None:
    """Freeze the decoder's 3D-model layers, put LoRA on their Linear/Conv modules; the conv and extras train."""
    decoder.requires_grad_(rank == 0)
    targets = [f"model.{n}" for n in decoder.model.lora_targets(decoder.config.layer)]
    if rank > 0 and targets:  # none when the cut is after the last wrappable layer: the conv and extras train
        from peft import LoraConfig

        decoder.add_adapter(LoraConfig(r=rank, lora_alpha=alpha, init_lora_weights=True, target_modules=targets),
                            adapter_name=ADAPTER_NAME)
    trainable = set(decoder.trainable_parameters())
    for name, p in decoder.named_parameters():
        if name in trainable:
            p.requires_grad_(True)


def merged(decoder: StitchedDecoder) -> StitchedDecoder:
    """A copy with the LoRA merged into the weights and the peft layers removed (a plain StitchedDecoder)."""
    out = copy.deepcopy(decoder)
    if getattr(out, "_hf_peft_config_loaded", False):
        out.fuse_lora()
        out.unload_lora()
    return out


def distill_loss(student: dict[str, Tensor], teacher: dict[str, Tensor], weights: dict[str, float]
                 ) -> dict[str, Tensor]:
    """-> {"l1_<name>": mean |student - teacher| per output, "loss": their weighted sum}."""
    terms = {f"l1_{k}": (student[k].float() - teacher[k].float()).abs().mean() for k, w in weights.items() if w > 0}
    terms["loss"] = sum(weights[k[3:]] * v for k, v in terms.items())
    return terms


def make_loss(teacher: nn.Module, vae, weights: dict[str, float], device: torch.device):
    from wonderland.vae import encode_video

    def loss(model, batch, generator: torch.Generator) -> dict[str, Tensor]:
        frames, cameras = batch[0].to(device), batch[1].to(device)
        latents = encode_video(vae, frames).float()  # (B, 16, T, h, w), no grad
        with torch.no_grad():
            target = teacher.forward_rgb(*rgb_inputs(teacher, frames, cameras))
        return distill_loss(model(latents, cameras).outputs, target, weights)

    return loss


def fit_stitched(cfg) -> FitResult | None:
    """Fine-tune (or resume); the final decoder is `<trainer.output_dir>/model` once trainer.max_steps is reached."""
    cfg = cfg if isinstance(cfg, FitConfig) else build_fit_config(cfg)
    if cfg.trainer.dry_run:
        decoder = StitchedDecoder.from_pretrained(cfg.decoder)
        add_lora(decoder, cfg.lora.rank, cfg.lora.alpha)
        n = sum(p.numel() for p in decoder.parameters() if p.requires_grad)
        print(f"stitched decoder at {decoder.config.layer}: {n:,} trainable of "
              f"{sum(p.numel() for p in decoder.parameters()):,} parameters")
        return None
    from wonderland.vae import load_vae

    from .adapter import adapter_class

    acc = make_accelerator(cfg.trainer)
    decoder = StitchedDecoder.from_pretrained(cfg.decoder)
    add_lora(decoder, cfg.lora.rank, cfg.lora.alpha)
    teacher = adapter_class(cfg.model.adapter).from_pretrained(cfg.model.path).eval().requires_grad_(False)
    teacher, vae = teacher.to(acc.device), load_vae(cfg.vae.path).to(acc.device)
    task = Task("stitching", decoder, clip_stream(cfg.data, cfg.clip, cfg.trainer.seed),
                make_loss(teacher, vae, cfg.loss.weights, acc.device), collate=collate_clips,
                trainable_only_checkpoints=True, save_model=lambda m, d: merged(m).save_pretrained(d))
    result = fit(acc, task, cfg.trainer, cfg.optim, config=asdict(cfg))
    if result.model_dir is not None and acc.is_main_process:
        from wonderland.io import write_json

        write_json(Path(cfg.trainer.output_dir) / "stitching.json", {
            "decoder": str(cfg.decoder), "layer": decoder.config.layer, "stitch": decoder.config.stitch,
            "steps": result.step, "lora": asdict(cfg.lora), "weights": cfg.loss.weights})
    return result
