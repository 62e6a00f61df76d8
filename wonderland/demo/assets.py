"""The bundled examples under `assets/`: a held-out wonderland-synth scene (frame 0 and its camera path)
and an out-of-domain picture drawn procedurally (no synthetic-scene generator made it).

    python -m wonderland.demo.assets   # rewrites assets/examples/*.png and assets/trajectories/*.json
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from .common import HEIGHT, NUM_FRAMES, WIDTH

ASSETS = Path(__file__).resolve().parents[2] / "assets"
EXAMPLE_SEED = 2  # dataset seed of the example scene: neither training (0) nor evaluation (1)


def sunset(height: int = 96, width: int = 144) -> np.ndarray:
    """(H, W, 3) uint8: sky gradient, sun, two mountain ridges and a lake: nothing like a synthetic room."""
    y, x = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    img = np.stack([0.95 - 0.5 * y, 0.55 - 0.3 * y, 0.45 + 0.3 * y], -1)  # orange to violet
    sun = (x - 0.65) ** 2 + ((y - 0.42) * height / width) ** 2 < 0.006
    img[sun] = (1.0, 0.9, 0.6)
    for base, amp, freq, colour in ((0.55, 0.12, 3.0, (0.35, 0.25, 0.4)), (0.68, 0.08, 5.0, (0.15, 0.2, 0.25))):
        ridge = base - amp * (0.5 + 0.5 * np.sin(2 * math.pi * freq * x[0] + base * 10)) * (1 - 0.4 * x[0])
        img[y > ridge[None, :]] = colour
    lake = y > 0.8
    img[lake] = img[lake] * 0.5 + np.array([0.1, 0.2, 0.4]) * 0.5 + 0.05 * np.sin(60 * y[lake])[:, None]
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def write_assets(root: Path = ASSETS) -> dict[str, Path]:
    import imageio.v2 as imageio

    from wonderland.data.synth import make_synthetic_scene, scene_seed
    from wonderland.trajectories import save_trajectory

    (root / "examples").mkdir(parents=True, exist_ok=True)
    (root / "trajectories").mkdir(parents=True, exist_ok=True)
    frames, cams = make_synthetic_scene(scene_seed(EXAMPLE_SEED, 0), NUM_FRAMES, HEIGHT, WIDTH)
    paths = {"scene": root / "examples" / "heldout_scene.png", "ood": root / "examples" / "out_of_domain.png",
             "trajectory": root / "trajectories" / "heldout_scene.json"}
    imageio.imwrite(paths["scene"], (frames[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy())
    imageio.imwrite(paths["ood"], sunset())
    save_trajectory(paths["trajectory"], cams, metadata={"source": f"wonderland-synth seed {EXAMPLE_SEED} scene 0"})
    return paths


if __name__ == "__main__":
    for name, path in write_assets().items():
        print(f"{name}: {path}")
