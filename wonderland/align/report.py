"""The alignment report: held-out scores of a family before and after an alignment component, written as
`report.json`, `report.md` (a before/after table) and `frames.png` (first held-out clip: rows ground truth,
video before, its render before, video after, its render after; columns every other frame).

    python -m wonderland.align.report <family> <component> <clips root> <out dir> [--clips N] [--steps S]
        [--stride S ...] [--no-cameras]

"Before" is the family's camera model with a zero alignment-LoRA, which is the unaligned model bit for bit
(tests/align/test_align.py); "after" loads the component's EMA weights. The held-out clips are the last `--clips`
scenes of the root. Camera errors: COLMAP on each generated video against its generation cameras
(`evaluate.camera_scores`: mean rotation error in degrees, centre error after scale normalisation, registered
fraction, clips COLMAP failed on), and the same on the ground-truth frames (`truth_*`), the method's own floor.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from wonderland.io import atomic_open, atomic_path, write_json

ROWS = ("ground truth", "video before", "render before", "video after", "render after")
KEYS = ("consistency_psnr", "gaussians_psnr", "video_psnr", "denoising_loss", "rot_err_deg", "trans_err",
        "registered_frames", "sfm_failures", "truth_rot_err_deg", "truth_trans_err", "truth_registered_frames",
        "truth_sfm_failures")


def write_report(out: Path, before: dict, after: dict, kept_before: list, kept_after: list, meta: dict) -> None:
    import imageio.v3 as iio

    from wonderland.video import to_uint8

    keys = [k for k in KEYS if k in before and k in after]
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "report.json", {**meta, "before": before, "after": after,
                                     "change": {k: after[k] - before[k] for k in keys}})
    lines = ["| held-out score | before | after | change |", "|---|---|---|---|"]
    lines += [f"| {k} | {before[k]:.3f} | {after[k]:.3f} | {after[k] - before[k]:+.3f} |" for k in keys]
    with atomic_open(out / "report.md") as f:
        f.write(f"Alignment report: {meta['family']} + {meta['component']}, {meta['clips']} held-out clips, "
                f"{meta['steps']} sampling steps\n\n" + "\n".join(lines) + "\n")
    truth, video_b, render_b = kept_before[0]
    _, video_a, render_a = kept_after[0]
    rows = [x[::2] for x in (truth, video_b, render_b, video_a, render_a)]  # (F', 3, H, W) each
    grid = torch.cat([torch.cat(list(r), dim=-1) for r in rows], dim=-2)  # (3, 5H, F'W)
    with atomic_path(out / "frames.png") as tmp:
        iio.imwrite(tmp, to_uint8(grid[None])[0], extension=".png")


def report(family: str, component: str, clips_root: str, out: str, clips: int = 8, steps: int = 4,
           strides: tuple[int, ...] = (3, 4, 5), cameras: bool = True) -> dict:
    from wonderland.data import VideoClipDataset, open_scenes

    from .config import to_schema
    from .evaluate import held_out_scores
    from .lora import read_component
    from .train import Parts

    cfg = to_schema({"model": {"family": family}, "data": {"kind": "re10k", "root": clips_root}, "lora": {"rank": 8}})
    meta = read_component(component)
    cfg.lora.rank, cfg.lora.alpha, cfg.lora.targets = int(meta["rank"]), float(meta["alpha"]), list(meta["targets"])
    scenes = open_scenes("re10k", clips_root)
    parts = Parts(cfg, torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    m = parts.manifest
    val = VideoClipDataset([scenes[i] for i in range(max(0, len(scenes) - clips), len(scenes))], m.num_frames,
                           m.height, m.width, strides, seed=1)
    held = [val[i] for i in range(len(val))]
    kept_b, kept_a = [], []
    before = held_out_scores(parts, held, steps, keep=kept_b, cameras=cameras)
    parts.load_component(component)
    after = held_out_scores(parts, held, steps, keep=kept_a, cameras=cameras)
    write_report(Path(out), before, after, kept_b, kept_a, {"family": str(family), "component": str(component),
                                                             "clips": len(held), "steps": steps,
                                                             "strides": list(strides)})
    return {"before": before, "after": after}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="wonderland.align.report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("family")
    p.add_argument("component")
    p.add_argument("clips_root", help="RE10K-layout clips; the last --clips scenes are the held-out ones")
    p.add_argument("out")
    p.add_argument("--clips", type=int, default=8)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--stride", type=int, action="append", help="clip frame strides (default 3, 4, 5; repeatable)")
    p.add_argument("--no-cameras", action="store_true", help="skip the camera errors (COLMAP)")
    a = p.parse_args(argv)
    report(a.family, a.component, a.clips_root, a.out, a.clips, a.steps, tuple(a.stride or (3, 4, 5)),
           not a.no_cameras)
    return 0


if __name__ == "__main__":
    sys.exit(main())
