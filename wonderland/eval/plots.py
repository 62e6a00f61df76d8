"""Evaluation plots to PNG (matplotlib, Agg): per-frame PSNR and estimated vs given camera paths."""

from __future__ import annotations

import os

import numpy as np
from torch import Tensor

from ..geometry import normalize_poses
from ..io import atomic_path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, out: str | os.PathLike) -> None:
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def per_frame_curve(rows: list[list[float | None]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ragged per-clip series -> (frame index, nan-mean, nan-std) over the clips that have each frame."""
    width = max((len(r) for r in rows), default=0)
    table = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        table[i, : len(row)] = [np.nan if v is None else v for v in row]
    with np.errstate(all="ignore"):  # frames no clip has stay NaN instead of warning
        return np.arange(width), np.nanmean(table, 0), np.nanstd(table, 0)


def plot_per_frame_psnr(records: list[dict], out: str | os.PathLike, key: str = "per_frame_psnr") -> None:
    """Mean +- std PSNR against frame index, one curve per dataset."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for dataset in sorted({r.get("dataset", "unknown") for r in records}):
        rows = [r["metrics"][key] for r in records if r.get("dataset", "unknown") == dataset and r["metrics"].get(key)]
        if not rows:
            continue
        x, mean, std = per_frame_curve(rows)
        ax.plot(x, mean, label=f"{dataset} ({len(rows)} clips)")
        ax.fill_between(x, mean - std, mean + std, alpha=0.2)
    ax.set_xlabel("frame index")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("PSNR (dB)")
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, out)
    plt.close(fig)


def plot_camera_paths(est_c2w: Tensor, gt_c2w: Tensor, out: str | os.PathLike, registered: Tensor | None = None,
                      title: str = "") -> None:
    """Top (x-z) and side (z-up) views of both paths, each relative to the reference frame and
    scale-normalised as in `camera_errors`. est_c2w, gt_c2w: (F, 4, 4); unregistered frames are marked
    on the given path and have no estimate."""
    plt = _pyplot()
    mask = np.ones(len(gt_c2w), bool) if registered is None else registered.cpu().numpy().astype(bool)
    ref = np.flatnonzero(mask)[:1].tolist() or [0]  # camera_errors' reference: the first registered frame
    gt_norm = normalize_poses(gt_c2w[mask].double())[1] if mask.any() else normalize_poses(gt_c2w.double())[1]
    gt = gt_norm.apply(gt_c2w.double())[:, :3, 3].numpy()  # every given frame, in the registered frames' units
    est = normalize_poses(est_c2w[mask].double())[0][:, :3, 3].numpy() if mask.any() else np.zeros((0, 3))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for ax, (a, b, la, lb) in zip(axes, ((0, 2, "x (right)", "z (forward)"), (2, 1, "z (forward)", "-y (up)"))):
        sign = -1 if b == 1 else 1  # OpenCV y points down; draw up as up
        ax.plot(gt[:, a], sign * gt[:, b], "k.-", label="given")
        ax.plot(est[:, a], sign * est[:, b], "o--", color="tab:orange", ms=3, label="estimated (SfM)")
        ax.plot(gt[ref, a], sign * gt[ref, b], "r*", ms=10, label="reference frame")
        if (~mask).any():
            ax.plot(gt[~mask, a], sign * gt[~mask, b], "x", color="tab:red", ms=8, label="unregistered")
        ax.set_xlabel(la)
        ax.set_ylabel(lb)
        ax.set_aspect("equal", adjustable="datalim")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title or f"{int(mask.sum())}/{len(mask)} frames registered")
    _save(fig, out)
    plt.close(fig)
