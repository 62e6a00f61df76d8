"""The schema of `wonderland-eval`'s config (configs/eval/*.yaml), built and checked once at the entry point.

`build_eval_config(cfg)` merges the composed YAML onto these dataclasses (an unknown key or a wrong type
fails there, naming the key) and checks every value (ranges, finiteness, choices, paths), so a bad value is
refused before any model, dataset or output is touched. Files that must exist are checked here too; what
they contain (the model family's manifest, the dataset's scenes) is checked where they are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf

from ..checks import (
    MAX_SEED,
    check_choice,
    check_device,
    check_dir,
    check_file,
    check_float,
    check_int,
    check_output_dir,
)
from ..data import KINDS, READER_OPTIONS
from ..errors import InputError
from .results import parse_shard

TASKS = ("video", "3d", "recon")
DTYPES = ("auto", "float32", "bfloat16", "float16")
LPIPS_NETS = ("vgg", "alex")
UNREGISTERED = ("exclude", "penalize")


@dataclass
class TaskConfig:
    """One schema for the three task groups (configs/eval/task/): a group lists only the keys it uses, and
    Hydra refuses any other one (`task=recon task.image_frames=3` is an unknown key)."""

    name: str = "video"
    image_frames: int = 14
    camera_frames: int = 16
    unregistered: str = "exclude"
    fid_frames: int | None = None
    fvd_frames: int = 16
    num_seen: int = 24
    num_unseen: int = 24
    background: float = 1.0


@dataclass
class DatasetConfig:
    name: str = "re10k"
    kind: str = "re10k"
    root: str | None = MISSING  # only report_only may leave it out
    options: dict[str, Any] = field(default_factory=dict)
    strides: list[int] = field(default_factory=lambda: [1])
    num_clips: dict[str, int] = field(default_factory=dict)


@dataclass
class WeightsConfig:
    lpips_net: str = "vgg"
    lpips_heads: str | None = None
    lpips_backbone: str | None = None
    inception: str | None = None
    i3d: str | None = None


@dataclass
class EvalConfig:
    task: TaskConfig = field(default_factory=TaskConfig)
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    weights: WeightsConfig = field(default_factory=WeightsConfig)
    model_dir: str | None = MISSING  # only report_only may leave it out
    output_dir: str = "outputs/eval"
    index: str | None = None
    num_clips: int | None = None
    num_frames: int | None = None
    seed: int = 0
    shard: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    num_inference_steps: int | None = None
    guidance_scale: float | None = None
    prompt: str | None = None
    report_only: bool = False
    num_path_plots: int = 4


def _check_task(t: TaskConfig) -> None:
    check_choice(t.name, "task.name", TASKS)
    for key in ("image_frames", "camera_frames", "fvd_frames", "num_seen"):
        check_int(getattr(t, key), f"task.{key}", min=1)
    check_int(t.num_unseen, "task.num_unseen", min=0)
    if t.fid_frames is not None:
        check_int(t.fid_frames, "task.fid_frames", min=1)
    check_choice(t.unregistered, "task.unregistered", UNREGISTERED)
    check_float(t.background, "task.background", min=0, max=1)


def _check_dataset(d: DatasetConfig, need_files: bool) -> None:
    check_choice(d.kind, "dataset.kind", KINDS)
    for key, value in d.options.items():
        if key not in READER_OPTIONS[d.kind]:
            takes = ", ".join(READER_OPTIONS[d.kind]) or "none"
            raise InputError(None, f"dataset.options.{key}", f"unknown option of the {d.kind} reader (it takes: "
                             f"{takes})", value=value)
    if not d.strides:
        raise InputError(None, "dataset.strides", "expected a non-empty list of strides >= 1", value=d.strides)
    for i, s in enumerate(d.strides):
        check_int(s, f"dataset.strides[{i}]", min=1)
    for task, n in d.num_clips.items():
        check_choice(task, "dataset.num_clips", TASKS)
        check_int(n, f"dataset.num_clips.{task}", min=1)
    if need_files:
        check_dir(d.root, "dataset.root")


def check_eval_config(c: EvalConfig) -> EvalConfig:
    """Every value in range; the files a run reads exist. Raises InputError naming the key."""
    need_files = not c.report_only  # a report needs only the output folder
    _check_task(c.task)
    _check_dataset(c.dataset, need_files)
    check_choice(c.weights.lpips_net, "weights.lpips_net", LPIPS_NETS)
    for key in ("lpips_heads", "lpips_backbone", "inception", "i3d"):  # null: that metric is unavailable
        if getattr(c.weights, key) is not None:
            check_file(getattr(c.weights, key), f"weights.{key}")
    if need_files:
        if c.model_dir is None:
            raise InputError(None, None, "model_dir: missing value; give model_dir=...")
        check_dir(c.model_dir, "model_dir")
        if c.task.name not in c.dataset.num_clips and c.num_clips is None:
            raise InputError(None, "num_clips", f"dataset {c.dataset.name} has no clip count for task "
                             f"{c.task.name}; give num_clips=N", value=None)
    check_output_dir(c.output_dir, "output_dir")
    if c.index is not None:
        check_file(c.index, "index")
    for key, lo in (("num_clips", 1), ("num_frames", 2), ("num_inference_steps", 1)):
        if getattr(c, key) is not None:
            check_int(getattr(c, key), key, min=lo)
    check_int(c.seed, "seed", min=0, max=MAX_SEED)
    check_int(c.num_path_plots, "num_path_plots", min=0)
    if c.shard is not None:
        parse_shard(c.shard)
    check_device(c.device, "device")
    check_choice(c.dtype, "dtype", DTYPES)
    if c.guidance_scale is not None:
        check_float(c.guidance_scale, "guidance_scale", min=0)
    return c


def build_eval_config(cfg: DictConfig | dict) -> EvalConfig:
    """A composed config -> the checked `EvalConfig` (InputError / OmegaConf errors name the key)."""
    merged = OmegaConf.merge(OmegaConf.structured(EvalConfig), cfg)
    if merged.report_only:  # a report reads only the output folder
        for node, key in ((merged, "model_dir"), (merged.dataset, "root")):
            if OmegaConf.is_missing(node, key):
                node[key] = None
    return check_eval_config(OmegaConf.to_object(merged))
