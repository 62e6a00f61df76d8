"""Model names as diffusers users expect them: a local directory, or a Hugging Face repo id ("owner/name").

A repo id is resolved with `huggingface_hub.snapshot_download`: the local cache first (no network when
the snapshot is there), then the Hub unless offline mode is on (HF_HUB_OFFLINE=1), in which case a
missing snapshot is an error rather than a download. Whatever comes back must still be a Wonderland
model directory (`wonderland.json`, checked by `read_manifest`).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError


def _offline() -> bool:
    from huggingface_hub import constants

    # constants.HF_HUB_OFFLINE is read when huggingface_hub is imported; the variable may be set later.
    return constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")


def is_repo_id(name: str) -> bool:
    """True for names the Hub accepts as a repo id ("owner/name" or a bare "name")."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def resolve_model_dir(name_or_path: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
                      revision: str | None = None) -> Path:
    """A local model directory as is; a repo id -> its snapshot folder in the Hugging Face cache."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    name = str(name_or_path)
    if path.exists():
        raise InputError(name, None, "is a file; expected a model directory or a Hugging Face repo id (owner/name)")
    if not is_repo_id(name):
        raise InputError(name, None, "no such model directory, and not a Hugging Face repo id (owner/name)")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        return Path(snapshot_download(name, revision=revision, cache_dir=cache_dir, local_files_only=True))
    except LocalEntryNotFoundError:
        if _offline():
            raise InputError(name, None, "not a local directory, and not in the Hugging Face cache while "
                                         "HF_HUB_OFFLINE is set (download it once online: hf download "
                                         f"{name})") from None
    try:
        return Path(snapshot_download(name, revision=revision, cache_dir=cache_dir))
    except GatedRepoError:
        raise InputError(name, None, "gated repo on the Hugging Face Hub: accept its terms and log in "
                                     "(hf auth login)") from None
    except RepositoryNotFoundError:
        raise InputError(name, None, "not a local directory, and no such repo on the Hugging Face Hub (or it is "
                                     "private: log in with hf auth login)") from None
    except RevisionNotFoundError:
        raise InputError(name, "revision", f"revision {revision!r} not found on the Hugging Face Hub") from None
    except (HfHubHTTPError, OSError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(name, None, f"could not download from the Hugging Face Hub ({reason})") from None
