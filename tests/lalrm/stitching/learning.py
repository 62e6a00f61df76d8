"""The stitching learning experiment, shared by the quick and the slow test (and run by hand for the report).

1. pre-train a tiny RGB LRM on frames (`lalrm.stitching pretrain`: the LaLRM recipe, renders vs ground truth);
2. search every candidate layer on clips encoded by the bundled demo VAE (`search_model`), k* = argmin MSE;
3. stitch at k* and fine-tune K steps label-free (`fit_stitched`: L1 to the frozen RGB LRM's outputs);
4. baseline: the same architecture (stitching conv + the layers after k*), randomly initialised, trained K steps
   from scratch on latents with the LaLRM's own supervised loss (renders vs ground-truth views: it even sees
   labels the stitched decoder never does);
5. score every model on held-out scenes' unseen views (frames between the clip's frames, never given).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import nn

from lalrm.inference import evaluate_views
from lalrm.stitching import RGBLRM, StitchedDecoder, parse_stitch_spec
from lalrm.stitching.fit import fit_stitched
from lalrm.stitching.pretrain import pretrain
from lalrm.stitching.search import search_model
from wonderland.cli.generate import default_model_dir
from wonderland.data.synth import make_synthetic_scene, scene_seed
from wonderland.geometry import Cameras, normalize_cameras
from wonderland.metrics import psnr
from wonderland.testing import CONFIGS, compose
from wonderland.vae import encode_video, load_vae

DEMO_VAE = default_model_dir() / "base" / "vae"
SIZE = (32, 48)  # the demo VAE's size: latents 4 x 6
EVAL_SIZE = (16, 24)
# The tiny model and recipe of the LaLRM's slow learning test (tests/lalrm/test_learning.py): stage lowres (one
# Gaussian per pixel), MSE only, 9-frame clips at stride 6 spanning the 49-frame videos.
MODEL = ["model=tiny"]


@dataclass
class Setup:
    train_root: Path
    out: Path
    depth: int = 4  # 6 candidate layers: rgb_embed, tokenizer, blocks 0-3
    model: tuple[str, ...] = tuple(MODEL)  # configs/lalrm overrides of the model (and its supervision)
    pretrain_steps: int = 600
    steps: int = 200  # K: the stitched fine-tune and the scratch baseline
    rank_steps: int = 100  # the fine-tune of every other candidate layer (rank correlation)
    lr: float = 1e-3
    stitch: str = "conv3d_k5x3x3_o64_s4x2x2_p2x1x1"
    search_clips: int = 96
    strides: tuple[int, ...] = (6,)  # supervised runs: 9-frame clips spanning the video, unseen views between
    label_free_strides: tuple[int, ...] = (4, 5, 6)  # search and fine-tune: more distinct clips per scene
    eval_seed: int = 99  # wonderland-synth dataset seed of the held-out scenes (training data: 0)
    eval_scenes: int = 8
    eval_clip: tuple[int, ...] = tuple(range(0, 49, 6))  # 9 input frames spanning the video
    eval_unseen: tuple[int, ...] = tuple(range(3, 48, 6))  # the 8 frames halfway between: never input
    times: dict[str, float] = field(default_factory=dict)


def _common(s: Setup, out: Path, steps: int, lr: float) -> list[str]:
    return [f"trainer.output_dir={out}", f"trainer.max_steps={steps}", "trainer.batch_size=2", f"optim.lr={lr}",
            f"optim.min_lr={lr / 10}", f"optim.warmup_steps={min(50, steps // 4)}", "trainer.checkpoint_every=1000000",
            "trainer.log_every=10", "trainer.resume=null", "trainer.mixed_precision=no", "trainer.progress=false",
            "trainer.num_workers=0", "trainer.gradient_checkpointing=false"]


def lalrm_overrides(s: Setup, out: Path, steps: int, lr: float) -> list[str]:
    """configs/lalrm overrides: the synthetic data at 32 x 48, supervision 1 seen + 1 unseen view at 16 x 24."""
    return ["stage=lowres", "data=synthetic", *s.model, f"model.depth={s.depth}", "stage.init_from=null",
            f"data.sources.synthetic.root={s.train_root}",
            f"data.sources.synthetic.strides=[{','.join(map(str, s.strides))}]",
            "loss.perceptual=0", "loss.allow_random_weights=true", *_common(s, out, steps, lr)]


def pretrain_rgb(s: Setup) -> RGBLRM:
    t0 = time.perf_counter()
    result = pretrain(compose(CONFIGS / "lalrm", lalrm_overrides(s, s.out / "rgb", s.pretrain_steps, s.lr)))
    s.times["pretrain"] = time.perf_counter() - t0
    return RGBLRM.from_pretrained(result.model_dir).eval()


def search(s: Setup, model: RGBLRM, vae):
    from lalrm.config import SourceConfig
    from lalrm.stitching.config import ClipConfig, DataConfig
    from lalrm.stitching.data import clip_stream, collate_clips

    t0 = time.perf_counter()
    data = DataConfig({"synthetic": SourceConfig("re10k", str(s.train_root), list(s.label_free_strides))})
    stream = clip_stream(data, ClipConfig(9, *SIZE), seed=1)  # other clips than the fine-tune's (seed 0)
    clips = (collate_clips([stream[j] for j in range(i, min(i + 4, s.search_clips))])
             for i in range(0, s.search_clips, 4))
    result = search_model(model, vae, clips, parse_stitch_spec(s.stitch), model.candidate_layers())
    s.times["search"] = time.perf_counter() - t0
    return result


def stitched(model: RGBLRM, layer: str, fit, stitch: str) -> StitchedDecoder:
    return StitchedDecoder.from_model(model, "rgb_lrm", layer, stitch, fit.weight, fit.bias).eval()


def fine_tune(s: Setup, decoder: StitchedDecoder, name: str, steps: int | None = None) -> StitchedDecoder:
    """`fit_stitched` from `decoder` (saved first, as `search` writes it) for K steps; -> the merged model."""
    start = s.out / f"{name}_start"
    decoder.save_pretrained(start)
    strides = ",".join(map(str, s.label_free_strides))
    data = f"+data.sources.synthetic={{kind: re10k, root: {s.train_root}, strides: [{strides}]}}"
    cfg = compose(CONFIGS / "stitching", [f"decoder={start}", f"model.path={s.out / 'rgb' / 'model'}",
                                          f"vae.path={DEMO_VAE}", "clip.num_frames=9", f"clip.height={SIZE[0]}",
                                          f"clip.width={SIZE[1]}", "~data.sources.dl3dv", data,
                                          *_common(s, s.out / name, steps or s.steps, s.lr)], config_name="fit")
    t0 = time.perf_counter()
    result = fit_stitched(cfg)
    s.times[name] = time.perf_counter() - t0
    return StitchedDecoder.from_pretrained(result.model_dir).eval()


class _AsLaLRM(nn.Module):
    """The LaLRM training loss reads `.gaussians` and `.distance` (unused at depth = color_tv = 0)."""

    def __init__(self, decoder: StitchedDecoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, latents, cameras):
        out = self.decoder(latents, cameras)
        return SimpleNamespace(gaussians=out.gaussians, distance=out.outputs["distance"])


def scratch(s: Setup, layer: str, model_config: dict, seed: int = 0) -> StitchedDecoder:
    """The stitched architecture at `layer`, random init, trained K steps on latents with the LaLRM's loss."""
    from lalrm.config import build_config
    from lalrm.data import build_stream, collate
    from lalrm.train import build_vae, make_loss
    from wonderland.training import Task, fit, make_accelerator

    cfg = build_config(compose(CONFIGS / "lalrm", lalrm_overrides(s, s.out / "scratch", s.steps, s.lr)
                               + [f"vae.path={DEMO_VAE}", "vae.tiny=false"]))
    torch.manual_seed(seed)
    decoder = StitchedDecoder("rgb_lrm", model_config, layer, s.stitch)
    acc = make_accelerator(cfg.trainer)
    task = Task("scratch", _AsLaLRM(decoder), build_stream(cfg), make_loss(cfg, build_vae(cfg, acc.device), acc.device),
                collate=collate)
    t0 = time.perf_counter()
    fit(acc, task, cfg.trainer, cfg.optim)
    s.times["scratch"] = time.perf_counter() - t0
    return decoder.eval()


@dataclass
class HeldOut:
    frames: list[torch.Tensor]  # (9, 3, 32, 48) clip frames per scene
    cameras: list[Cameras]  # (9,) clip cameras, normalised (frame 0 = identity, scale 1) as in training
    latents: list[torch.Tensor]  # (16, 3, 4, 6)
    targets: list[torch.Tensor]  # (8, 3, 16, 24) unseen frames
    target_cameras: list[Cameras]  # (8,) in the same normalised frame
    mean_colour: float  # PSNR of each clip's mean colour, averaged


@torch.no_grad()
def held_out(s: Setup, vae) -> HeldOut:
    fr, ca, la, ta, tc, base = [], [], [], [], [], []
    clip, unseen = list(s.eval_clip), list(s.eval_unseen)
    for i in range(s.eval_scenes):
        frames, cams = make_synthetic_scene(scene_seed(s.eval_seed, i), 49, *SIZE)
        normed, norm = normalize_cameras(cams[clip].to(torch.float32))
        c2w = norm.apply(cams.c2w[unseen].to(torch.float32))
        target = F.interpolate(frames[unseen], size=EVAL_SIZE, mode="area")
        fr.append(frames[clip]), ca.append(normed), la.append(encode_video(vae, frames[None, clip])[0].float())
        ta.append(target), tc.append(Cameras(c2w, cams.K[unseen].float(), *SIZE).resize(*EVAL_SIZE))
        mean = frames[clip].mean((0, 2, 3))[None, :, None, None].expand_as(target)
        base.append(psnr(mean, target).mean().item())
    return HeldOut(fr, ca, la, ta, tc, sum(base) / len(base))


@torch.no_grad()
def score(h: HeldOut, model: nn.Module, rgb: bool = False) -> float:
    """Mean PSNR on the unseen views of the held-out scenes (the RGB model reads frames, decoders latents)."""
    out = []
    for frames, cams, latents, target, tcams in zip(h.frames, h.cameras, h.latents, h.targets, h.target_cameras):
        x = frames[None] if rgb else latents[None]
        g = model(x, cams[None]).gaussians[0]
        out.append(evaluate_views(g, tcams, target)["psnr"])
    return sum(out) / len(out)


def spearman(x: list[float], y: list[float]) -> float:
    """Rank correlation (no ties expected)."""
    rank = lambda v: torch.tensor(v).argsort().argsort().double()  # noqa: E731
    rx, ry = rank(x), rank(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float((rx * ry).sum() / math.sqrt(float((rx * rx).sum() * (ry * ry).sum())))


def load_demo_vae():
    return load_vae(DEMO_VAE)
