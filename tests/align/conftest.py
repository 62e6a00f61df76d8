"""Alignment fixtures: a 9-frame tiny family (3 latent frames: the rollout, the VAE decode and the renders are
frame-count generic and 5x cheaper than at 49) and synthetic clips of its size."""

import pytest

from wonderland.align.config import to_schema
from wonderland.testing import CONFIGS, build_tiny_family, compose, write_synth

FRAMES = 9


@pytest.fixture(scope="session")
def family9(tmp_path_factory):
    return build_tiny_family(tmp_path_factory.mktemp("align_family") / "tiny9", num_frames=FRAMES)


@pytest.fixture(scope="session")
def clips9(tmp_path_factory):
    return write_synth(tmp_path_factory.mktemp("align_clips"), 3, num_frames=FRAMES)


def align_config(family, clips, out, *overrides: str):
    """configs/align with size=tiny on the fixtures: rollouts of 2 steps, both with gradient."""
    return compose(CONFIGS / "align", ["size=tiny", f"model.family={family}", f"data.root={clips}",
                                       f"trainer.output_dir={out}", "rollout.min_steps=2", "rollout.max_steps=2",
                                       *overrides])


def typed(*args, **kwargs):
    return to_schema(align_config(*args, **kwargs))
