"""Small cameras/latents for LaLRM tests."""

import pytest
import torch

from wonderland.geometry import Cameras, K_from_fov, look_at


def orbit_cameras(batch: int, frames: int, height: int, width: int) -> Cameras:
    """Cameras (B, F) on a short arc looking at the origin from ~3 units away (normalised-scene scale)."""
    angles = torch.linspace(0, 0.6, frames, dtype=torch.float64)
    eyes = torch.stack([3 * angles.sin(), torch.zeros_like(angles), -3 * angles.cos()], -1)
    c2w = look_at(eyes, torch.zeros_like(eyes))
    K = K_from_fov(60.0, height, width)
    return Cameras(c2w.expand(batch, -1, -1, -1).clone(), K, height, width)


@pytest.fixture
def tiny_kwargs() -> dict:
    # width 32 / 2 heads: the smallest multi-head backbone; 2 blocks so checkpointing has something to skip.
    return dict(width=32, depth=2, num_heads=2, patch_size=2, head_stride=8)


CONFIG_DIR = str(__import__("pathlib").Path(__file__).resolve().parents[2] / "configs" / "lalrm")


def compose(overrides: list[str]):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        return hydra_compose("config", overrides=overrides)


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory):
    """Four wonderland-synth scenes of 49 frames at 32x48 in the RE10K layout (what data=synthetic reads)."""
    from wonderland.data.synth import write_synthetic_dataset

    root = tmp_path_factory.mktemp("synth")
    write_synthetic_dataset(root, 4, num_frames=49, height=32, width=48, workers=1)
    return root


def smoke_overrides(stage: str, root, out) -> list[str]:
    return [f"stage={stage}", "model=tiny", "data=synthetic", "trainer=smoke",
            f"data.sources.synthetic.root={root}", f"trainer.output_dir={out}"]
