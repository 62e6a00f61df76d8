"""Hub-style loading: a Hugging Face repo id resolves through the cache (offline here, as in every test)."""

import hashlib
import os
import shutil
from pathlib import Path

import huggingface_hub
import pytest
import torch

from wonderland.cli.generate import default_model_dir
from wonderland.cli.generate import main as generate
from wonderland.errors import InputError
from wonderland.pipeline import WonderlandPipeline
from wonderland.pipeline.hub import resolve_model_dir

REPO = "wonderland-test/demo"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def write_hf_cache(cache: Path, repo_id: str, source: Path) -> Path:
    """The layout huggingface_hub writes: models--owner--name/{blobs/<sha256>, refs/main,
    snapshots/<commit>/<file> -> ../../blobs/<sha256>} (relative symlinks, as on Linux)."""
    root = cache / f"models--{repo_id.replace('/', '--')}"
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(COMMIT)
    snapshot = root / "snapshots" / COMMIT
    for f in sorted(p for p in source.rglob("*") if p.is_file()):
        blob = root / "blobs" / hashlib.sha256(f.read_bytes()).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, blob)
        link = snapshot / f.relative_to(source)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    return snapshot


@pytest.fixture(scope="module")
def hf_cache(tiny_family, tmp_path_factory):
    cache = tmp_path_factory.mktemp("hf_cache")
    return cache, write_hf_cache(cache, REPO, tiny_family)


def test_from_pretrained_with_a_repo_id_reads_the_cache_offline(hf_cache, tiny_family):
    assert huggingface_hub.constants.HF_HUB_OFFLINE  # tests/conftest.py: no network, so this is the cache
    cache, snapshot = hf_cache
    pipe = WonderlandPipeline.from_pretrained(REPO, cache_dir=cache)
    assert pipe.manifest.root == snapshot
    local = WonderlandPipeline.from_pretrained(tiny_family)  # a local path keeps working
    for (name, a), (_, b) in zip(pipe.lalrm.state_dict().items(), local.lalrm.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    cam_a = dict(pipe.video_pipe.transformer.named_parameters())
    cam_b = dict(local.video_pipe.transformer.named_parameters())
    assert all(torch.equal(cam_a[k], cam_b[k]) for k in cam_b)


def test_repo_missing_from_the_cache_offline_is_one_line(hf_cache):
    cache, _ = hf_cache
    with pytest.raises(InputError, match="not in the Hugging Face cache while HF_HUB_OFFLINE is set") as e:
        resolve_model_dir("wonderland-test/absent", cache_dir=cache)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("name", ["./no/such/dir", "a/b/c", "bad name!"])
def test_neither_a_directory_nor_a_repo_id(name):
    with pytest.raises(InputError, match="no such model directory, and not a Hugging Face repo id"):
        resolve_model_dir(name)


def test_generate_cli_resolves_a_repo_id_before_loading(hf_cache, monkeypatch, tmp_path, capsys):
    cache, snapshot = hf_cache
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))  # the default cache_dir
    # The model resolves and its manifest is read; the (missing) image is then the first error: exit 2
    # before any model is loaded.
    code = generate([str(tmp_path / "missing.png"), "--preset", "orbit", "--model", REPO, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "missing.png: image file not found" in err
    code = generate([str(tmp_path / "missing.png"), "--preset", "orbit", "--model", "wonderland-test/absent"])
    err = capsys.readouterr().err
    assert code == 2 and "wonderland-test/absent: not a local directory" in err and "missing.png" not in err


def test_the_bundled_family_is_a_local_directory():
    assert resolve_model_dir(default_model_dir()) == default_model_dir()
