"""Evaluation plumbing shared by the `wonderland-eval` tasks: per-clip protocol scores, resumable
per-clip logs, shards, summaries with the paper's numbers beside ours, and plots. Core-only (metrics,
sfm, io): the runner that generates videos / 3D joins the subsystems above it, not here."""

from .plots import plot_camera_paths, plot_per_frame_psnr
from .report import PAPER, markdown_table, summarize, write_report
from .results import CLIP_ID, ResultsLog, parse_shard, read_results, shard_items
from .scoring import CAMERA_FRAMES, IMAGE_FRAMES, camera_scores, image_scores

__all__ = [
    "CAMERA_FRAMES",
    "CLIP_ID",
    "IMAGE_FRAMES",
    "PAPER",
    "ResultsLog",
    "camera_scores",
    "image_scores",
    "markdown_table",
    "parse_shard",
    "plot_camera_paths",
    "plot_per_frame_psnr",
    "read_results",
    "shard_items",
    "summarize",
    "write_report",
]
