"""Camera guidance on the demo family's held-out scenes: how much the camera steers the video per scale s.

    python scripts/eval_camera_guidance.py [--model models/wonderland-demo] [--scales 1 2 3 5] [--scenes N]

Per test scene (`wonderland.demo.evaluate`'s split, dataset seed 3) and scale s, the family generates the
video from frame 0 with the scene's own camera path and with the next scene's path (same seed), and scores
both by PSNR against the ground truth (frames 1..48). The margin own - other says how much the camera
steers the video (an ignored camera gives 0); PSNR(own) says whether the steering helps or breaks the
frames. Writes --out (JSON, rewritten after every scene so a partial run still reports).
"""

import argparse
import sys
from pathlib import Path

import torch


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=Path("models/wonderland-demo"))
    p.add_argument("--scales", type=float, nargs="+", default=[1.0, 2.0, 3.0, 5.0])
    p.add_argument("--scenes", type=int, default=4)
    p.add_argument("--out", type=Path, default=Path("outputs/camera_guidance_test.json"))
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    from camera_video.speed import SamplingOptions
    from wonderland.data.synth import make_synthetic_scene, scene_seed
    from wonderland.demo.common import HEIGHT, NUM_FRAMES, TEST_SEED, WIDTH
    from wonderland.demo.evaluate import paired_margin
    from wonderland.geometry import Cameras
    from wonderland.io import write_json
    from wonderland.metrics import psnr
    from wonderland.pipeline import WonderlandPipeline

    pipe = WonderlandPipeline.from_pretrained(args.model)
    pipe.set_progress_bar(False)
    n = max(args.scenes, 2)
    scenes = [make_synthetic_scene(scene_seed(TEST_SEED, i), NUM_FRAMES, HEIGHT, WIDTH) for i in range(n)]
    rows: dict[float, list[dict]] = {s: [] for s in args.scales}
    for i in range(args.scenes):
        frames, cams = scenes[i]
        cams = cams.to(torch.float32)
        other = Cameras(scenes[(i + 1) % n][1].c2w.to(torch.float32), cams.K, cams.height, cams.width)
        for s in args.scales:
            pipe.sampling = SamplingOptions(camera_guidance=s)
            own, oth = (float(psnr(pipe.generate_video(frames[0], c, seed=0).frames[1:].clamp(0, 1),
                                   frames[1:]).mean()) for c in (cams, other))
            rows[s].append({"own": own, "other": oth})
            print(f"scene {i} s={s:g}: own {own:.2f} dB, other {oth:.2f} dB", flush=True)
        table = {f"{s:g}": {"psnr_own": sum(r["own"] for r in rows[s]) / len(rows[s]),
                            "psnr_other": sum(r["other"] for r in rows[s]) / len(rows[s]),
                            "margin_own_minus_other": paired_margin(rows[s], "own", "other"),
                            "per_scene": rows[s]} for s in args.scales}
        write_json(args.out, {"model": str(args.model), "dataset_seed": TEST_SEED, "scenes": i + 1,
                              "metric": "PSNR (dB), frames 1..48", "scales": table})
    print("| s | PSNR own | PSNR other | margin own - other (± s.e.) |\n|---|---|---|---|")
    for s, r in table.items():
        m = r["margin_own_minus_other"]
        print(f"| {s} | {r['psnr_own']:.2f} | {r['psnr_other']:.2f} | {m['mean']:+.2f} ± {m['standard_error']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
