"""Schemas of `configs/lalrm/stitching/{search,fit}.yaml`, built and checked once at the entry points.

Every value is checked in `build_*` before a model, a dataset or an output exists (`InputError` naming the key,
exit status 2 through `wonderland.hydra_entry`): paths, the adapter, the stitching spec, the layers (on the
`meta` device: the 3D model's architecture from its config.json, no weights), and that the spec turns the clip
size into every searched layer's grid. `fit` has the shared `trainer.*` / `optim.*` keys (`wonderland.training`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from wonderland.checks import check_choice, check_dir, check_float, check_int, check_output_dir
from wonderland.errors import InputError
from wonderland.training import OptimConfig, TrainerConfig, build_typed, check_optim, check_trainer

from ..config import SourceConfig

CRITERIA = ("mse", "relative")
DEVICES = ("auto", "cpu", "cuda")


@dataclass
class ModelRef:
    adapter: str = "rgb_lrm"  # a key of lalrm.stitching.ADAPTERS or package.module:Class
    path: str | None = None  # the pretrained 3D model (its from_pretrained folder)


@dataclass
class VAERef:
    path: str | None = None  # a CogVideoX model dir (with vae/) or a VAE dir


@dataclass
class ClipConfig:
    num_frames: int = 49  # the latent contract (SPEC section 1): 4k + 1
    height: int = 480  # what the VAE reads; the 3D model reads its rgb_size of it
    width: int = 720


@dataclass
class DataConfig:
    sources: dict[str, SourceConfig] = field(default_factory=dict)


@dataclass
class SearchConfig:
    model: ModelRef = field(default_factory=ModelRef)
    vae: VAERef = field(default_factory=VAERef)
    clip: ClipConfig = field(default_factory=ClipConfig)
    data: DataConfig = field(default_factory=DataConfig)
    stitch: str = "conv3d_k5x3x3_o1024_s4x2x2_p2x1x1"
    layers: list[str] | None = None  # null: every candidate layer of the adapter
    ridge: float = 1e-4
    criterion: str = "relative"  # k* = argmin relative MSE (1 - R^2) | mse (VIST3A's plain MSE)
    num_clips: int = 200
    batch_size: int = 1
    seed: int = 0
    device: str = "auto"
    progress: bool = True
    output_dir: str = "outputs/stitching/search"


@dataclass
class LoRAConfig:
    rank: int = 64  # 0: no LoRA, the kept layers train in full
    alpha: float = 32.0


@dataclass
class LossConfig:
    weights: dict[str, float] = field(default_factory=dict)  # output name -> L1 weight (0 = not compared)


@dataclass
class FitConfig:
    decoder: str | None = None  # the stitched decoder to start from (search's <output_dir>/decoder)
    model: ModelRef = field(default_factory=ModelRef)  # the frozen original: its outputs on frames are the targets
    vae: VAERef = field(default_factory=VAERef)
    clip: ClipConfig = field(default_factory=ClipConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    lora: LoRAConfig = field(default_factory=LoRAConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)


def build_search_config(cfg) -> SearchConfig:
    """Not a trainer (its output_dir and seed are its own): no renamed trainer keys to look for."""
    if isinstance(cfg, SearchConfig):
        check_search(cfg)
        return cfg
    raw = cfg if isinstance(cfg, DictConfig) else OmegaConf.create(cfg)
    out = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(SearchConfig), raw))
    check_search(out)
    return out


def build_fit_config(cfg) -> FitConfig:
    return build_typed(FitConfig, cfg, check_fit)


def _check_clip(c: ClipConfig) -> None:
    from wonderland.latents import num_latent_frames

    try:
        num_latent_frames(check_int(c.num_frames, "clip.num_frames", min=1))
    except ValueError:
        raise InputError(None, "clip.num_frames", "expected 4k + 1 frames (e.g. 9, 49)", value=c.num_frames) from None
    for key in ("height", "width"):
        if check_int(getattr(c, key), f"clip.{key}", min=8) % 8:
            raise InputError(None, f"clip.{key}", "expected a multiple of 8 (the VAE's spatial compression)",
                             value=getattr(c, key))


def _check_sources(d: DataConfig) -> None:
    from wonderland.data import KINDS

    if not d.sources:
        raise InputError(None, "data.sources", "expected at least one source {kind, root, strides, weight}")
    for name, src in d.sources.items():
        check_choice(src.kind, f"data.sources.{name}.kind", KINDS)
        check_float(src.weight, f"data.sources.{name}.weight", min=0.0)
        check_dir(src.root, f"data.sources.{name}.root")
        if not src.strides:
            raise InputError(None, f"data.sources.{name}.strides", "expected a non-empty list", value=src.strides)
        for i, s in enumerate(src.strides):
            check_int(s, f"data.sources.{name}.strides[{i}]", min=1)
    if not any(s.weight > 0 for s in d.sources.values()):
        raise InputError(None, "data.sources", "expected a source with a positive weight")


def _check_vae(v: VAERef) -> None:
    if v.path is None:
        raise InputError(None, "vae.path", "missing value; give vae.path=<VAE folder or CogVideoX model folder>")
    path = check_dir(v.path, "vae.path")
    if not ((path / "config.json").is_file() or (path / "vae" / "config.json").is_file()):
        raise InputError(None, "vae.path", "expected a VAE folder (config.json) or a model folder with vae/",
                         value=v.path)


def meta_model(ref: ModelRef):
    """The 3D model's architecture on `meta` from `<path>/config.json` (no weights): its layers and grids."""
    import torch

    from .adapter import adapter_class

    try:
        cls = adapter_class(ref.adapter)
    except ValueError as e:
        raise InputError(None, "model.adapter", str(e), value=ref.adapter) from None
    if ref.path is None:
        raise InputError(None, "model.path", "missing value; give model.path=<the pretrained 3D model folder>")
    config = check_dir(ref.path, "model.path") / "config.json"
    if not config.is_file():
        raise InputError(None, "model.path", "expected a from_pretrained folder (no config.json)", value=ref.path)
    data = json.loads(config.read_text())
    if data.get("_class_name", cls.__name__) != cls.__name__:
        raise InputError(config, "_class_name", f"a {data['_class_name']}, not the {cls.__name__} that adapter "
                         f"{ref.adapter!r} loads")
    try:
        with torch.device("meta"):
            return cls.from_config(data)
    except (TypeError, ValueError) as e:
        raise InputError(config, None, f"not a {ref.adapter} model config ({str(e).splitlines()[0]})") from None


def check_layers(model, layers: list[str], stitch: str, clip: ClipConfig, key: str = "layers") -> None:
    """Every layer is a candidate of the model and the spec makes exactly its activation grid for the clip."""
    from .layer import parse_stitch_spec

    try:
        spec = parse_stitch_spec(stitch)
    except ValueError as e:
        raise InputError(None, "stitch", str(e), value=stitch) from None
    candidates = model.candidate_layers()
    t = (clip.num_frames - 1) // 4 + 1
    made = (spec.out_channels, *spec.output_grid(t, clip.height // 8, clip.width // 8))
    for layer in layers:
        if layer not in candidates:
            raise InputError(None, key, f"{layer!r} is not a candidate layer; expected some of {', '.join(candidates)}")
        grid = tuple(model.layer_grid(layer, clip.num_frames, clip.height, clip.width))
        if made != grid:
            raise InputError(None, "stitch", f"turns {clip.num_frames} x {clip.height} x {clip.width} into (C, T', h', "
                             f"w') = {made}, but layer {layer} is {grid}", value=stitch)


def check_search(cfg: SearchConfig) -> None:
    _check_clip(cfg.clip)
    check_float(cfg.ridge, "ridge", min=0.0)
    check_choice(cfg.criterion, "criterion", CRITERIA)
    check_choice(cfg.device, "device", DEVICES)
    for key in ("num_clips", "batch_size"):
        check_int(getattr(cfg, key), key, min=1)
    check_int(cfg.seed, "seed", min=0)
    check_output_dir(cfg.output_dir, "output_dir")
    _check_vae(cfg.vae)
    _check_sources(cfg.data)
    model = meta_model(cfg.model)
    if cfg.layers is not None and not cfg.layers:
        raise InputError(None, "layers", "expected a non-empty list of layer names or null (every candidate)")
    check_layers(model, cfg.layers if cfg.layers is not None else model.candidate_layers(), cfg.stitch, cfg.clip)


def check_fit(cfg: FitConfig) -> None:
    check_trainer(cfg.trainer)
    check_optim(cfg.optim)
    _check_clip(cfg.clip)
    check_int(cfg.lora.rank, "lora.rank", min=0)
    check_float(cfg.lora.alpha, "lora.alpha", min=0.0, min_open=True)
    check_output_dir(cfg.trainer.output_dir, "trainer.output_dir")
    _check_vae(cfg.vae)
    _check_sources(cfg.data)
    model = meta_model(cfg.model)
    names = tuple(model.output_names)
    for name, w in cfg.loss.weights.items():
        if name not in names:
            raise InputError(None, f"loss.weights.{name}", f"not an output of {cfg.model.adapter}; expected some of "
                             f"{', '.join(names)}")
        check_float(w, f"loss.weights.{name}", min=0.0)
    if not any(w > 0 for w in cfg.loss.weights.values()):
        raise InputError(None, "loss.weights", "expected a positive weight for at least one output")
    decoder = _check_decoder(cfg.decoder)
    if decoder.get("adapter") != cfg.model.adapter or decoder.get("model_config") != model.stitch_config():
        raise InputError(Path(cfg.decoder) / "config.json", "model_config", f"this decoder was stitched from another "
                         f"model than model.path={cfg.model.path} (its adapter or config differ)")
    check_layers(model, [decoder["layer"]], decoder["stitch"], cfg.clip, key="decoder")


def _check_decoder(path: str | None) -> dict:
    if path is None:
        raise InputError(None, "decoder", "missing value; give decoder=<a stitched decoder folder (search's "
                         "<output_dir>/decoder)>")
    config = check_dir(path, "decoder") / "config.json"
    data = json.loads(config.read_text()) if config.is_file() else {}
    if data.get("_class_name") != "StitchedDecoder":
        raise InputError(None, "decoder", "expected a stitched decoder folder (config.json with _class_name "
                         "StitchedDecoder)", value=path)
    return data
