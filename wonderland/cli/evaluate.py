"""`wonderland-eval task=video|3d|recon dataset=re10k|dl3dv|tanks|synthetic dataset.root=... model_dir=...`

The paper's evaluation protocol (SPEC section 4; configs in configs/eval/, schema in wonderland/eval/config.py).
`main` composes and checks the config (`wonderland.hydra_entry`: a bad key or value is one line, exit 2,
nothing written); `evaluate(cfg)` does the work and is what tests call:
  1. the index: given (`index=`), or built seeded over the dataset; fixed in `<output_dir>/index.json`;
  2. this shard's clips (`shard=i/n`, or the rank under accelerate / torchrun) not yet in the results logs are
     evaluated one by one, each record appended to the shard's JSONL as soon as it is finished;
  3. from every shard's records: summary.json, table.md (the paper's row beside ours), per-frame PSNR
     and camera-path plots; FID / FVD over the whole set from the stored per-clip features.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from ..data import EvalIndex, open_scenes
from ..errors import InputError
from ..eval import ResultsLog, parse_shard, plot_camera_paths, plot_per_frame_psnr, read_results, shard_items
from ..eval.clips import INDEX_FILE, clip_id, resolve_index
from ..eval.config import EvalConfig, build_eval_config
from ..eval.report import summarize, write_report
from ..eval.set_metrics import save_features, set_metrics
from ..hydra_entry import hydra_main
from ..metrics import MetricWeights, load_metric_nets

log = logging.getLogger(__name__)
PROG = "wonderland-eval"
CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs" / "eval"


def _shard(cfg: EvalConfig) -> tuple[int, int]:
    """`shard=i/n`, else the process rank / world size that `accelerate launch` and `torchrun` set."""
    if cfg.shard is not None:
        return parse_shard(str(cfg.shard))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return (int(os.environ.get("RANK", "0")), world) if world > 1 else (0, 1)


def _device(cfg: EvalConfig):
    """cfg.device / cfg.dtype; `auto` under a multi-process launcher picks this process's GPU."""
    import torch

    from .generate import resolve_device_dtype

    device = cfg.device
    if device == "auto" and "LOCAL_RANK" in os.environ and torch.cuda.is_available():
        device = f"cuda:{os.environ['LOCAL_RANK']}"
    return resolve_device_dtype(device, cfg.dtype, option="device")


def write_outputs(cfg: EvalConfig, out_dir: Path, ids: list[str], unavailable: dict[str, str]) -> dict:
    """Summary, table and plots from every shard's records of this index."""
    task, dataset = cfg.task.name, cfg.dataset.name
    order = {c: i for i, c in enumerate(ids)}
    records = sorted((r for r in read_results(out_dir) if r["clip_id"] in order), key=lambda r: order[r["clip_id"]])
    whole_set = set_metrics(task, out_dir, [r["clip_id"] for r in records], unavailable)
    summary = summarize(task, records, {dataset: whole_set})
    summary |= {"index_clips": len(ids), "finished_clips": len(records)}
    write_report(out_dir, summary)
    plot_per_frame_psnr(records, out_dir / "per_frame_psnr.png")
    if task == "video":
        import torch

        for r in records[: cfg.num_path_plots]:
            cam = r["camera"]
            est = torch.tensor([[[np.nan if v is None else v for v in row] for row in m] for m in cam["est_c2w"]],
                               dtype=torch.float64)  # (F, 4, 4); JSON null = NaN = unregistered
            plot_camera_paths(est, torch.tensor(cam["gt_c2w"], dtype=torch.float64),
                              out_dir / "camera_paths" / f"{r['clip_id'].replace(os.sep, '_')}.png",
                              torch.tensor(cam["registered"]), title=r["clip_id"])
    return summary


def _check_clip_length(cfg: EvalConfig, num_frames: int) -> None:
    """The task's frame counts fit in a clip (known once the model family says how long its clips are)."""
    t = cfg.task
    for key in ("image_frames", "camera_frames", "fvd_frames", "fid_frames", "num_seen"):
        value = getattr(t, key)
        if value is not None and value > num_frames:
            raise InputError(None, f"task.{key}", f"expected at most the clip's {num_frames} frames", value=value)


def evaluate(cfg: EvalConfig | DictConfig) -> dict:
    """Run (or resume) this shard of the evaluation in `cfg` (see configs/eval/config.yaml; a composed
    DictConfig is built and checked first) -> summary."""
    from ..pipeline.evaluation import TaskOptions, eval_clip
    from ..pipeline.manifest import read_manifest

    if not isinstance(cfg, EvalConfig):
        cfg = build_eval_config(cfg)
    task = cfg.task.name
    out_dir = Path(cfg.output_dir)
    weights = MetricWeights(**dataclasses.asdict(cfg.weights))
    device, dtype = _device(cfg)
    if cfg.report_only:  # the stored index and logs are all it needs
        ids = [clip_id(e) for e in EvalIndex.load(out_dir / INDEX_FILE).entries]
        return write_outputs(cfg, out_dir, ids, load_metric_nets(weights, device).unavailable)
    shard_index, shard_count = _shard(cfg)
    manifest = read_manifest(cfg.model_dir)
    num_frames = cfg.num_frames or manifest.num_frames
    if num_frames != manifest.num_frames:
        raise InputError(None, "num_frames", f"the model generates {manifest.num_frames} frames", value=num_frames)
    _check_clip_length(cfg, num_frames)
    scenes = open_scenes(cfg.dataset.kind, cfg.dataset.root, **cfg.dataset.options)
    count = cfg.num_clips or cfg.dataset.num_clips[task]
    index = resolve_index(out_dir, scenes, num_frames, count, list(cfg.dataset.strides), cfg.seed, cfg.index)
    ids = [clip_id(e) for e in index.entries]

    results = ResultsLog(out_dir, (shard_index, shard_count))
    todo = [e for e in shard_items(index.entries, shard_index, shard_count) if clip_id(e) not in results.done()]
    nets = load_metric_nets(weights, device)
    if todo:
        from ..pipeline import WonderlandPipeline

        opt = TaskOptions(**{k: v for k, v in dataclasses.asdict(cfg.task).items() if k != "name"},
                          num_inference_steps=cfg.num_inference_steps, guidance_scale=cfg.guidance_scale,
                          prompt=cfg.prompt, seed=cfg.seed)
        pipe = WonderlandPipeline.from_pretrained(manifest.root, device=device, dtype=dtype)
        pipe.set_progress_bar(False)
        log.info("%s on %s: %d of this shard's clips to evaluate", task, cfg.dataset.name, len(todo))
        for n, entry in enumerate(todo, 1):
            t0 = time.perf_counter()
            cid = clip_id(entry)
            result = eval_clip(task, pipe, scenes[scenes.position(entry.key)], entry, nets, opt)
            if result.features:  # before the record: a logged clip always has its features
                save_features(out_dir, cid, result.features)
            seconds = time.perf_counter() - t0
            results.append({"clip_id": cid, "dataset": cfg.dataset.name, "key": entry.key, "start": entry.start,
                            "stride": entry.stride, "metrics": result.metrics, **result.extras,
                            "seconds": seconds})
            log.info("[%d/%d] %s: psnr %.2f (%.1f s)", n, len(todo), cid, result.metrics.get("psnr") or float("nan"),
                     seconds)
    # Every process reports what all shards have finished (summary.json says how many of the index).
    return write_outputs(cfg, out_dir, ids, nets.unavailable)


def _run(cfg: EvalConfig) -> None:
    evaluate(cfg)
    print((Path(cfg.output_dir) / "table.md").read_text())


def main(argv: list[str] | None = None) -> int:
    """`wonderland-eval key=value ...` (argv: the overrides; default sys.argv[1:]) -> exit status."""
    return hydra_main(argv, prog=PROG, config_dir=CONFIG_DIR, build=build_eval_config, run=_run)


if __name__ == "__main__":
    sys.exit(main())
