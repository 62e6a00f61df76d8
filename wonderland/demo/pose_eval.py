"""How well a family's pose stream proposes camera paths (`--trajectory auto`): the model card's numbers and PNG,
and the learning test (tests/test_demo_pose_stream.py).

- **Path statistics**: per-frame translation rate |c_{f+1} - c_f| and rotation rate (geodesic angle between
  consecutive rotations), pooled over frames and paths, of the paths proposed from held-out test images
  (wonderland-synth TEST_SEED, frame 0) against the training paths (TRAIN_SEED); distance = Wasserstein-1
  between the pooled 1D distributions (scipy), in normalised units (farthest centre at 1) and radians.
  Measured for the trained stream and for a fresh one of the same configuration (its initialisation).
- **Ray fit**: the RMS residual of the fitted cameras (`cameras_from_plucker`) per latent frame.
- **Consistency of poses with the generated frames**: the LaLRM reconstructs the generated latents at the proposed
  cameras; the render at those cameras is compared with the generated frames (PSNR). Poses that do not match the
  frames make the LaLRM place content where the other frames contradict it. Measured for async and sync sampling.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from .common import HEIGHT, TEST_SEED, TRAIN_SEED, WIDTH, load_clips, write_scenes


def path_rates(c2w: Tensor) -> tuple[Tensor, Tensor]:
    """c2w (N, F, 4, 4) -> (translation rates, rotation rates in radians), each (N (F - 1),)."""
    from wonderland.geometry import geodesic_angle

    c2w = c2w.double()
    trans = (c2w[:, 1:, :3, 3] - c2w[:, :-1, :3, 3]).norm(dim=-1)
    rot = geodesic_angle(c2w[:, 1:, :3, :3], c2w[:, :-1, :3, :3])
    return trans.flatten(), rot.flatten()


def rate_distances(proposed: Tensor, reference: Tensor) -> dict[str, float]:
    """Wasserstein-1 between the pooled per-frame rates of two path sets (N, F, 4, 4), plus their means."""
    from scipy.stats import wasserstein_distance

    (pt, pr), (rt, rr) = path_rates(proposed), path_rates(reference)
    return {"w1_translation": float(wasserstein_distance(pt.numpy(), rt.numpy())),
            "w1_rotation": float(wasserstein_distance(pr.numpy(), rr.numpy())),
            "mean_translation": float(pt.mean()), "mean_rotation": float(pr.mean()),
            "ref_mean_translation": float(rt.mean()), "ref_mean_rotation": float(rr.mean())}


def propose(pipe, images: Tensor, mode: str = "async", seed: int = 0, steps: int | None = None) -> dict:
    """Generate a path for each image (N, 3, H, W) -> c2w (N, F, 4, 4), residual (N, T), consistency PSNR (N,)."""
    from wonderland.metrics.image import psnr
    from wonderland.render import render_video

    c2w, residual, consistency = [], [], []
    for i, image in enumerate(images):
        res = pipe.generate_auto(image, seed=seed + i, num_inference_steps=steps, pose=mode)
        c2w.append(res.cameras.c2w)
        residual.append(torch.tensor(res.sampler["pose"]["ray_fit_residual"]))
        rgb, _, _ = render_video(res.gaussians, res.cameras, torch.ones(3), progress=False)
        consistency.append(psnr(rgb.clamp(0, 1), res.frames).mean())
    return {"c2w": torch.stack(c2w), "residual": torch.stack(residual), "consistency": torch.stack(consistency)}


def summarise(sample: dict, reference: Tensor) -> dict:
    return {**rate_distances(sample["c2w"], reference), "residual_mean": float(sample["residual"].mean()),
            "residual_max": float(sample["residual"].max()),
            "consistency_psnr": float(sample["consistency"].mean()),
            "consistency_psnr_se": float(sample["consistency"].std() / len(sample["consistency"]) ** 0.5)}


def evaluate_pose_stream(family: str | Path, work: str | Path, test_scenes: int = 8, ref_scenes: int = 64,
                         steps: int | None = None, seed: int = 0, plot: str | Path | None = None) -> dict:
    """The module docstring's measurements for `family` (which must have a pose stream): trained async / sync
    and a fresh stream (async) -> {"trained_async", "trained_sync", "init_async": summaries, ...}."""
    from camera_video.models import PoseStream

    from ..pipeline import WonderlandPipeline

    work = Path(work)
    reference = load_clips(write_scenes(work / "data" / "train", ref_scenes, TRAIN_SEED)).c2w
    images = load_clips(write_scenes(work / "data" / "test", test_scenes, TEST_SEED)).frames[:, 0]
    pipe = WonderlandPipeline.from_pretrained(family)
    pipe.set_progress_bar(False)
    out, samples = {"test_scenes": test_scenes, "ref_scenes": ref_scenes, "seed": seed}, {}
    with torch.no_grad():
        for mode in ("async", "sync"):
            samples[f"trained_{mode}"] = propose(pipe, images, mode, seed, steps)
        transformer = pipe.video_pipe.transformer
        trained = transformer.pose_stream
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            fresh = PoseStream.from_config(trained.config).eval()
        transformer.attach_pose_stream(fresh)
        samples["init_async"] = propose(pipe, images, "async", seed, steps)
        transformer.attach_pose_stream(trained)
    out |= {k: summarise(v, reference) for k, v in samples.items()}
    if plot is not None:
        plot_paths(reference[:16], samples["trained_async"]["c2w"], plot)
    return out


def plot_paths(reference: Tensor, proposed: Tensor, out: str | Path) -> None:
    """Top-down (x right, z forward) plot of training paths beside proposed ones, each (N, F, 4, 4) normalised."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 4.5), sharex=True, sharey=True)
    for ax, paths, title in ((axes[0], reference, "training paths"), (axes[1], proposed, "proposed (auto, async)")):
        for c2w in paths.double():
            c = c2w[:, :3, 3]
            ax.plot(c[:, 0], c[:, 2], lw=1)
            ax.scatter(c[-1:, 0], c[-1:, 2], s=8)
        ax.scatter([0], [0], c="k", marker="^", s=40, label="frame 0")
        ax.set_title(f"{title} ({len(paths)})")
        ax.set_xlabel("x (right)")
        ax.set_aspect("equal")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("z (forward)")
    axes[0].legend(loc="lower right")
    fig.suptitle(f"camera centres seen from above, normalised (farthest at 1); images {HEIGHT}x{WIDTH}")
    fig.tight_layout()
    from ..io import atomic_path

    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)


__all__ = ["evaluate_pose_stream", "path_rates", "plot_paths", "propose", "rate_distances", "summarise"]
