"""Fixtures for the data tests: a small synthetic dataset in the RE10K layout, and a PNG writer."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from wonderland.data.synth import write_synthetic_dataset

# Small enough to write in ~1 s, large enough for 8-frame clips at stride 2 plus unseen frames.
SYNTH = {"num_scenes": 4, "num_frames": 20, "height": 24, "width": 32, "seed": 7}


def write_png(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb.astype(np.uint8)).save(path)


@pytest.fixture(scope="session")
def synth_re10k(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth_re10k")
    write_synthetic_dataset(root, format="re10k", workers=1, **SYNTH)
    return root
