"""Summaries of per-clip results and the markdown table with the paper's rows beside ours.

A clip record (one JSONL line, see `results.py`):
    {"clip_id": str, "dataset": "re10k" | "dl3dv" | "tanks" | ..., "metrics": {name: float | null | list}}
Scalar metric names: psnr, ssim, lpips, rot_err, trans_err, num_unregistered (and e.g. psnr_unseen);
lists (per_frame_psnr, ...) are kept for plots and ignored here. A null value means "not computed for
this clip" and is counted as missing, never averaged as 0. Set-level metrics (FID, FVD) are passed in
as {dataset: {name: (value | None, reason | None)}}.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict

import numpy as np

from ..io import atomic_open, write_json

# SPEC section 4 (video: paper Table 1; 3d: Table 2) and section 3 (recon: Table 3, frozen encoder).
PAPER = {
    "video": {"re10k": {"fid": 16.16, "fvd": 153.48, "rot_err": 0.046, "trans_err": 0.093, "lpips": 0.206,
                        "psnr": 19.71, "ssim": 0.557}},
    "3d": {"re10k": {"lpips": 0.292, "psnr": 17.15, "ssim": 0.550}, "dl3dv": {"psnr": 16.64},
           "tanks": {"psnr": 15.90}},
    "recon": {"re10k": {"psnr": 27.10, "ssim": 0.864, "lpips": 0.122}, "tanks": {"psnr": 22.66}},
}
# (metric, header, lower is better, decimals), in the paper's column order.
COLUMNS = {
    "video": [("fid", "FID", True, 2), ("fvd", "FVD", True, 2), ("rot_err", "RotErr", True, 3),
              ("trans_err", "TransErr", True, 3), ("lpips", "LPIPS", True, 3), ("psnr", "PSNR", False, 2),
              ("ssim", "SSIM", False, 3)],
    "3d": [("lpips", "LPIPS", True, 3), ("psnr", "PSNR", False, 2), ("ssim", "SSIM", False, 3)],
    "recon": [("psnr", "PSNR", False, 2), ("ssim", "SSIM", False, 3), ("lpips", "LPIPS", True, 3),
              ("psnr_unseen", "PSNR unseen", False, 2), ("ssim_unseen", "SSIM unseen", False, 3),
              ("lpips_unseen", "LPIPS unseen", True, 3)],
}
DATASET_NAMES = {"re10k": "RealEstate10K", "dl3dv": "DL3DV", "tanks": "Tanks and Temples"}
SetMetrics = dict[str, dict[str, tuple[float | None, str | None]]]


def _stats(values: list[float | None]) -> dict:
    present = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    return {
        "mean": float(present.mean()) if len(present) else None,
        "std": float(present.std()) if len(present) else None,
        "count": int(len(present)),
        "missing": len(values) - int(len(present)),
    }


def summarize(task: str, records: list[dict], set_metrics: SetMetrics | None = None) -> dict:
    """Per-dataset mean / std / count / missing of every scalar metric, plus the camera failure counts."""
    if task not in PAPER:
        raise ValueError(f"unknown task {task!r}; expected one of {tuple(PAPER)}")
    by_dataset: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_dataset[str(r.get("dataset", "unknown"))].append(r)
    datasets = {}
    for name in sorted(set(by_dataset) | set(set_metrics or {}), key=_dataset_order):
        recs = by_dataset.get(name, [])
        scalars = sorted({k for r in recs for k, v in r["metrics"].items() if v is None or isinstance(v, int | float)})
        entry = {"num_clips": len(recs),
                 "metrics": {k: _stats([r["metrics"].get(k) for r in recs]) for k in scalars},
                 "unavailable": {}}
        if "num_unregistered" in scalars:
            counts = [r["metrics"].get("num_unregistered") or 0 for r in recs]
            entry["camera"] = {"unregistered_frames": int(sum(counts)),
                               "clips_with_unregistered": int(sum(c > 0 for c in counts))}
        for metric, (value, reason) in (set_metrics or {}).get(name, {}).items():
            if value is None:
                entry["unavailable"][metric] = reason or "not computed"
            else:
                entry["metrics"][metric] = {"mean": float(value), "std": None, "count": len(recs), "missing": 0}
        datasets[name] = entry
    return {"task": task, "num_clips": len(records), "datasets": datasets, "paper": PAPER[task]}


def _dataset_order(name: str) -> tuple[int, str]:
    order = list(DATASET_NAMES)
    return (order.index(name) if name in order else len(order), name)


def _fmt(value: float | None, decimals: int) -> str:
    return "–" if value is None else f"{value:.{decimals}f}"


def markdown_table(summary: dict) -> str:
    """The paper's row and ours per dataset; 'n/a' for an unavailable metric, with the reason below."""
    task = summary["task"]
    cols = COLUMNS[task]
    header = "| Dataset | Method | " + " | ".join(f"{h} {'↓' if low else '↑'}" for _, h, low, _ in cols) + " |"
    lines = [header, "|" + "---|" * (len(cols) + 2)]
    notes = []
    for name, entry in summary["datasets"].items():
        label = DATASET_NAMES.get(name, name)
        paper = PAPER[task].get(name, {})
        if paper:
            lines.append(f"| {label} | Wonderland (paper) | "
                         + " | ".join(_fmt(paper.get(k), d) for k, _, _, d in cols) + " |")
        cells = []
        for key, head, _, decimals in cols:
            if key in entry["unavailable"]:
                cells.append("n/a")
                notes.append(f"{label} {head}: {entry['unavailable'][key]}")
            else:
                cells.append(_fmt(entry["metrics"].get(key, {}).get("mean"), decimals))
        lines.append(f"| {label} | ours (n={entry['num_clips']}) | " + " | ".join(cells) + " |")
        if "camera" in entry:
            cam = entry["camera"]
            notes.append(f"{label}: SfM left {cam['unregistered_frames']} frame(s) unregistered in "
                         f"{cam['clips_with_unregistered']} clip(s) (counts per clip in the log)")
    return "\n".join(lines + ([""] + [f"- {n}" for n in notes] if notes else [])) + "\n"


def write_report(out_dir: str | os.PathLike, summary: dict) -> None:
    """`summary.json` and `table.md` in `out_dir`, written atomically."""
    write_json(os.path.join(out_dir, "summary.json"), summary)
    with atomic_open(os.path.join(out_dir, "table.md")) as f:
        f.write(f"# Wonderland evaluation: task={summary['task']}\n\n" + markdown_table(summary))
