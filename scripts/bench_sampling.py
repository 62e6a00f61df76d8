"""Sampling speed options on the bundled family, measured in one run: prints the README's table.

    python scripts/bench_sampling.py [--model models/wonderland-demo] [--threads 2] [--repeats 2]

For each option (`camera_video.speed`): denoising-network calls (one batched call per step), CogVideoX
blocks evaluated (main + control; a first-block-cache step runs block 0 only), attention computations
(pyramid attention broadcast reuses some), the denoising loop's wall time relative to the reference row's
(best of `--repeats`, the VAE decode excluded: it is the same for every option), and the decoded video's
PSNR against the reference's (mean over the two bundled examples and frames 1..48). The reference is the
default sampler at the same number of steps (dynamic CFG: fixed guidance 6). Anchors: the
default sampler with another seed (what "a different sample" scores) and the default at 50 steps.
The bundled family samples with guidance 1 (no CFG), so dynamic CFG is compared at guidance 6 against
fixed guidance 6.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [ROOT / "assets" / "examples" / "heldout_scene.png", ROOT / "assets" / "examples" / "out_of_domain.png"]
TRAJECTORY = ROOT / "assets" / "trajectories" / "heldout_scene.json"

# (label, SamplingOptions kwargs, steps or None = the family's, guidance or None = the family's, seed, reference)
CASES = [
    ("default (CogVideoXDPM)", {}, None, None, 0, "default"),
    ("default, seed 1 (anchor)", {}, None, None, 1, "default"),
    ("default, 50 steps (anchor)", {}, 50, None, 0, "default"),
    # First-block cache: block 0's residual changes by 0.29-0.41 (relative) per step at 10 steps, 0.11-0.19 at 50
    ("fbc 0.35", {"cache": "fbc", "cache_threshold": 0.35}, None, None, 0, "default"),
    ("fbc 0.15, 50 steps", {"cache": "fbc", "cache_threshold": 0.15}, 50, None, 0, "default, 50 steps (anchor)"),
    ("fbc 0.25, 50 steps", {"cache": "fbc", "cache_threshold": 0.25}, 50, None, 0, "default, 50 steps (anchor)"),
    ("pab (skip 2, t in 100..800)", {"cache": "pab"}, None, None, 0, "default"),
    ("compile (blocks, inductor)", {"compile": True}, None, None, 0, "default"),
    ("fused camera-LoRA", {"fuse_lora": True}, None, None, 0, "default"),
    ("default, 5 steps", {}, 5, None, 0, "default"),
    ("cogvideox_ddim, 10 steps", {"scheduler": "cogvideox_ddim"}, None, None, 0, "default"),
    ("dpm++_2m, 10 steps", {"scheduler": "dpm++_2m"}, None, None, 0, "default"),
    ("unipc, 10 steps", {"scheduler": "unipc"}, None, None, 0, "default"),
    ("euler, 10 steps", {"scheduler": "euler"}, None, None, 0, "default"),
    ("dpm++_2m, 5 steps", {"scheduler": "dpm++_2m"}, 5, None, 0, "default"),
    ("unipc, 5 steps", {"scheduler": "unipc"}, 5, None, 0, "default"),
    ("guidance 6 fixed", {}, None, 6.0, 0, "default"),
    ("guidance 6 dynamic CFG", {"dynamic_cfg": True}, None, 6.0, 0, "guidance 6 fixed"),
]


class Counter:
    """Counts CogVideoX block evaluations (their first norm runs) and attention computations."""

    def __init__(self, transformer):
        from diffusers.models.transformers.cogvideox_transformer_3d import CogVideoXBlock

        self.blocks = self.attention = 0
        for m in transformer.modules():
            if isinstance(m, CogVideoXBlock):
                m.norm1.register_forward_pre_hook(lambda *a: self._add("blocks"))
                m.attn1.to_q.register_forward_pre_hook(lambda *a: self._add("attention"))  # runs iff attention does

    def _add(self, name: str) -> None:
        setattr(self, name, getattr(self, name) + 1)


def run_case(base_pipe, options, steps: int, guidance: float, seed: int, inputs, repeats: int) -> dict:
    from camera_video.speed import apply_sampling_options
    from wonderland.vae import decode_latents

    video = copy.copy(base_pipe.video_pipe)  # shares the VAE; the transformer and scheduler are its own
    video.transformer = copy.deepcopy(base_pipe.video_pipe.transformer)
    video.scheduler = copy.deepcopy(base_pipe.video_pipe.scheduler)
    counter = Counter(video.transformer)
    apply_sampling_options(video, options)
    seconds, frames, calls = [], [], 0
    first = None
    for _ in range(repeats + (1 if options.compile else 0)):  # compile: one extra warm-up run
        blocks0, attn0 = counter.blocks, counter.attention
        t_run, latents = 0.0, []
        for image, cams in inputs:
            t0 = time.perf_counter()
            out = video(image[None], cams, **base_pipe.prompt_embeds, num_inference_steps=steps,
                        guidance_scale=guidance, use_dynamic_cfg=options.dynamic_cfg, seed=seed, output_type="latent")
            t_run += time.perf_counter() - t0
            latents.append(out.latents)
            calls = out.stats["transformer_calls"]
        if first is None:
            first = t_run
        seconds.append(t_run)
        per_run = (counter.blocks - blocks0) / len(inputs), (counter.attention - attn0) / len(inputs)
    frames = [decode_latents(video.vae, lat)[0] for lat in latents]
    timed = seconds[1:] if options.compile else seconds
    return {"seconds": min(timed), "first_run_seconds": first, "calls": calls, "blocks": per_run[0],
            "attention": per_run[1], "frames": frames}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=ROOT / "models" / "wonderland-demo")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--only", nargs="*", default=None, help="run only the cases whose label contains one of these "
                   "(their references are run too)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    from camera_video.speed import SamplingOptions
    from wonderland.images import fit_image, load_image
    from wonderland.metrics import psnr
    from wonderland.pipeline import WonderlandPipeline
    from wonderland.trajectories import load_trajectory

    pipe = WonderlandPipeline.from_pretrained(args.model)
    pipe.set_progress_bar(False)
    m, d = pipe.manifest, pipe.manifest.defaults
    cams = pipe.fit_trajectory(load_trajectory(TRAJECTORY)).to(torch.float32)
    inputs = [(fit_image(load_image(path), m.height, m.width).image, cams) for path in EXAMPLES]
    results: dict[str, dict] = {}
    print(f"bench_sampling: {args.model.name}, {len(inputs)} examples, {args.threads} threads, "
          f"{d['num_inference_steps']} steps by default, guidance {d['guidance_scale']}", flush=True)
    key = lambda label: "default" if label.startswith("default (") else label  # noqa: E731
    wanted = {key(c[0]) for c in CASES if args.only is None or any(w in c[0] for w in args.only)}
    wanted |= {c[5] for c in CASES if key(c[0]) in wanted}  # their references
    cases = [c for c in CASES if key(c[0]) in wanted]
    for label, kwargs, steps, guidance, seed, ref in cases:
        options = SamplingOptions(**kwargs)
        r = run_case(pipe, options, steps or d["num_inference_steps"], d["guidance_scale"] if guidance is None
                     else guidance, seed, inputs, args.repeats)
        base = results.get(ref, r)
        r["psnr"] = float("inf") if ref == label else \
            sum(psnr(a[1:], b[1:]).mean().item() for a, b in zip(r["frames"], base["frames"])) / len(inputs)
        results[key(label)] = r
        extra = f" (first run {r['first_run_seconds']:.2f} s)" if options.compile else ""
        print(f"  {label:<28} calls {r['calls']:>3}  blocks {r['blocks']:>5.0f}  attention {r['attention']:>5.0f}  "
              f"loop {r['seconds']:6.2f} s{extra}  PSNR vs {ref} {r['psnr']:.2f} dB", flush=True)

    print("\n| option | network calls | blocks run | attention computed | time ratio | PSNR vs reference |")
    print("|---|---|---|---|---|---|")
    for label, *_, ref in cases:
        r = results[key(label)]
        ratio = r["seconds"] / results[ref]["seconds"]
        ps = "reference" if key(label) == ref else f"{r['psnr']:.1f} dB" + ("" if ref == "default" else f" (vs {ref})")
        print(f"| {label} | {r['calls']} | {r['blocks']:.0f} | {r['attention']:.0f} | {ratio:.2f} | {ps} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
