"""Test-wide settings: no network for the hub libraries, 2-core torch, the `gpu` and `fullscale` markers."""

import os
import tempfile

# Offline before any hub library is imported: tests never download weights or datasets.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
# hypothesis (tests/test_entry_point_fuzz.py) keeps its caches outside the source tree.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "wonderland-hypothesis"))

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(int(os.environ.get("WONDERLAND_TEST_THREADS", "2")))


def pytest_collection_modifyitems(config, items):
    # Full-size tests (hours on a CPU) run only when asked for by marker (`make test-fullscale`), so that
    # `pytest`, `pytest -m "not slow"` and `make test-slow` never start them by accident.
    if "fullscale" not in (config.getoption("markexpr") or ""):
        full = [item for item in items if "fullscale" in item.keywords]
        if full:
            config.hook.pytest_deselected(items=full)
            items[:] = [item for item in items if "fullscale" not in item.keywords]
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng() -> torch.Generator:
    return torch.Generator().manual_seed(0)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (see tests/browser.py); skipped where Chromium is missing."""
    from .browser import launch_browser

    pw, chromium = launch_browser()
    yield chromium
    chromium.close()
    pw.stop()
