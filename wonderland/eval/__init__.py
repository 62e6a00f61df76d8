"""Evaluation plumbing shared by the `wonderland-eval` tasks: resumable per-clip logs, shards,
summaries with the paper's numbers beside ours, and plots. Core-only (metrics, io); the runner that
generates videos / 3D lives above it."""

from .plots import plot_camera_paths, plot_per_frame_psnr
from .report import PAPER, markdown_table, summarize, write_report
from .results import CLIP_ID, ResultsLog, parse_shard, read_results, shard_items

__all__ = [
    "CLIP_ID",
    "PAPER",
    "ResultsLog",
    "markdown_table",
    "parse_shard",
    "plot_camera_paths",
    "plot_per_frame_psnr",
    "read_results",
    "shard_items",
    "summarize",
    "write_report",
]
