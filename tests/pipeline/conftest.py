"""A tiny model family built in code and saved to disk (`wonderland.testing.build_tiny_family`), so the real
loading path runs."""

import pytest

from wonderland.testing import TINY_SIZE, build_tiny_family

H, W = TINY_SIZE  # the tiny CogVideoX twin's size (latents 4 x 6)


@pytest.fixture(scope="session")
def tiny_family(tmp_path_factory):
    return build_tiny_family(tmp_path_factory.mktemp("family") / "tiny")
