"""A tiny model family built in code and saved to disk (`wonderland.testing.build_tiny_family`), so the real
loading path runs."""

import pytest

from wonderland.testing import TINY_SIZE, build_tiny_family

H, W = TINY_SIZE  # the tiny CogVideoX twin's size (latents 4 x 6)


@pytest.fixture(scope="session")
def tiny_family(tmp_path_factory):
    return build_tiny_family(tmp_path_factory.mktemp("family") / "tiny")


def run(argv, capsys) -> tuple[int, list[str]]:
    """`wonderland-generate argv` in-process -> (exit status, stderr lines): the CLI tests' one runner."""
    from wonderland.cli.generate import main as generate

    try:
        code = generate(argv)
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err.splitlines()
