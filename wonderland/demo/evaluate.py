"""The demo family's bar, measured on held-out wonderland-synth scenes (training used dataset seed 0):

    python scripts/eval_demo.py [--model models/wonderland-demo] [--split test|validation] [--scenes N]
        [--no-alignment]

(`wonderland.demo.evaluate.main`; the script is its thin command line.)

Two scene sets: `validation` (dataset seed 1, 8 scenes: the VAE's held-out number and the choice between
recipe runs) and `test` (seed 3, 32 scenes by default: never used for any choice; the model card reports it).
Per scene (frame 0 is the input image, the scene's own camera path is the trajectory), mean PSNR over
frames 1..48 against the ground truth of:
  repeat     the input image repeated (the baseline to beat)
  generated  the generated video
  shuffled   the same model and image with the next held-out scene's camera path (control: must be worse)
  gaussians  the Gaussians reconstructed from the generated latents, rendered at the ground-truth cameras
and, as ceilings, the VAE's reconstruction of the ground truth and the LaLRM on the ground-truth latents.
The Gaussians are rendered at every 4th camera (frames 4, 8, ..., 48: the CPU reference renderer is the
slow part) and compared with the baseline over the same frames (repeat_at_views).
Writes <model>/eval_<split>.json (margins with the standard error of the per-scene differences) and
PNG strips <model>/frames/<split>_<i>.png (rows: ground truth, generated, shuffled, Gaussians; frames 0, 12, 24,
36, 48, 4x nearest-upscaled). With `--no-alignment` (a family with an alignment component, sampled without it):
<model>/eval_<split>_no_alignment.json and no strips.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import Tensor

from ..checks import nonnegative_int, positive_int
from ..cli_args import ArgumentParser
from .common import HEIGHT, HELDOUT_SEED, NUM_FRAMES, TEST_SEED, WIDTH, save_strip

ROOT = Path(__file__).resolve().parents[2]
VIEWS = list(range(0, 49, 4))  # cameras the Gaussians are rendered at (frame 0 only for the strips)
SPLITS = {"validation": (HELDOUT_SEED, 8), "test": (TEST_SEED, 32)}  # dataset seed, default scene count
MARGINS = {"generated_minus_repeat": ("generated", "repeat"), "generated_minus_shuffled": ("generated", "shuffled"),
           "gaussians_minus_repeat": ("gaussians", "repeat_at_views")}
METHODS = ("repeat", "generated", "shuffled", "vae_ceiling", "repeat_at_views", "gaussians", "lalrm_on_gt_latents")


@torch.no_grad()
def evaluate_scene(pipe, frames: Tensor, cams, other_cams, seed: int = 0) -> tuple[dict, list[Tensor]]:
    """frames (F, 3, H, W) ground truth; cams (F,) its cameras; other_cams (F,) another scene's path."""
    from wonderland.geometry import Cameras
    from wonderland.metrics import psnr
    from wonderland.render import render
    from wonderland.vae import decode_latents, encode_video

    def score(video: Tensor) -> float:
        return float(psnr(video[1:].clamp(0, 1), frames[1:]).mean())

    def render_views(g) -> Tensor:  # (F, 3, H, W), rendered at VIEWS, zeros elsewhere
        out = torch.zeros_like(frames)
        out[VIEWS] = render(g, cams[VIEWS], 1.0).rgb
        return out

    def score_views(video: Tensor) -> float:
        return float(psnr(video[VIEWS[1:]].clamp(0, 1), frames[VIEWS[1:]]).mean())

    cams = cams.to(torch.float32)
    gen = pipe.generate_video(frames[0], cams, seed=seed)
    shuffled_cams = Cameras(other_cams.c2w.to(torch.float32), cams.K, cams.height, cams.width)
    shuffled = pipe.generate_video(frames[0], shuffled_cams, seed=seed)
    rendered = render_views(pipe.reconstruct(gen.latents, gen.cameras))
    vae = pipe.video_pipe.vae
    gt_latents = encode_video(vae, frames[None])[0]
    on_gt = render_views(pipe.reconstruct(gt_latents, cams))
    scores = {"repeat": score(frames[:1].expand_as(frames)), "generated": score(gen.frames),
              "shuffled": score(shuffled.frames), "gaussians": score_views(rendered),
              "vae_ceiling": score(decode_latents(vae, gt_latents[None])[0]), "lalrm_on_gt_latents": score_views(on_gt),
              "repeat_at_views": score_views(frames[:1].expand_as(frames))}
    return scores, [frames, gen.frames, shuffled.frames, rendered]


def paired_margin(per_scene: list[dict], a: str, b: str) -> dict:
    """Mean of the per-scene differences a - b and its standard error (the scenes are the samples)."""
    d = torch.tensor([s[a] - s[b] for s in per_scene], dtype=torch.float64)
    se = float(d.std() / len(d) ** 0.5) if len(d) > 1 else float("nan")
    return {"mean": float(d.mean()), "standard_error": se}


def main(argv=None) -> int:
    p = ArgumentParser(prog="eval_demo.py", description=__doc__)
    p.add_argument("--model", type=Path, default=ROOT / "models" / "wonderland-demo")
    p.add_argument("--split", choices=sorted(SPLITS), default="test")
    p.add_argument("--scenes", type=positive_int, default=None, help="default: 8 (validation), 32 (test)")
    p.add_argument("--strips", type=nonnegative_int, default=2, help="scenes to save PNG strips of")
    p.add_argument("--threads", type=positive_int, default=2)
    p.add_argument("--no-alignment", action="store_true", help="sample without the family's alignment component")
    args = p.parse_args(argv)
    seed, default_scenes = SPLITS[args.split]
    num_scenes = args.scenes or default_scenes
    torch.set_num_threads(args.threads)

    from wonderland.data.synth import make_synthetic_scene, scene_seed
    from wonderland.io import write_json
    from wonderland.pipeline import WonderlandPipeline

    pipe = WonderlandPipeline.from_pretrained(args.model, alignment=not args.no_alignment)
    suffix = "_no_alignment" if args.no_alignment else ""
    pipe.set_progress_bar(False)
    scenes = [make_synthetic_scene(scene_seed(seed, i), NUM_FRAMES, HEIGHT, WIDTH) for i in range(num_scenes)]
    per_scene = []
    for i, (frames, cams) in enumerate(scenes):
        scores, rows = evaluate_scene(pipe, frames, cams, scenes[(i + 1) % len(scenes)][1])
        per_scene.append(scores)
        print(f"scene {i}: " + ", ".join(f"{k} {v:.2f}" for k, v in scores.items()), flush=True)
        if i < args.strips and not suffix:
            save_strip(args.model / "frames" / f"{args.split}_{i}.png", rows)
    mean = {k: sum(s[k] for s in per_scene) / len(per_scene) for k in METHODS}
    wins = {"generated": sum(s["generated"] > s["repeat"] for s in per_scene),
            "gaussians": sum(s["gaussians"] > s["repeat_at_views"] for s in per_scene)}
    wins["generated_beats_shuffled"] = sum(s["generated"] > s["shuffled"] for s in per_scene)
    aligned = pipe.manifest.alignment is not None and not args.no_alignment
    result = {"split": args.split, "scenes": num_scenes, "alignment": aligned, "dataset_seed": seed,
              "metric": "PSNR (dB), frames 1..48",
              "mean": mean, "wins_of": wins, "per_scene": per_scene,
              "margins": {k: paired_margin(per_scene, a, b) for k, (a, b) in MARGINS.items()}}
    write_json(args.model / f"eval_{args.split}{suffix}.json", result)
    print("| " + " | ".join(METHODS) + " |\n|" + "---|" * len(METHODS))
    print("| " + " | ".join(f"{mean[k]:.2f}" for k in METHODS) + " |")
    print(json.dumps(result["margins"], indent=1), json.dumps(wins))
    return 0
