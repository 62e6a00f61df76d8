"""Finished chunks of a long walk on disk, so `--resume` picks up after the last one.

    <out>/chunks/chunk_000/frames.safetensors     {"frames": (F, 3, H, W) uint8}: what the video shows and
                                                   what conditions the next chunk (both use the 8-bit frames)
    <out>/chunks/chunk_000/latents.safetensors    {"latents": (16, T, h, w) float32}
    <out>/chunks/chunk_000/gaussians.safetensors  means quats scales opacities colors, (F*Hg*Wg,) world frame,
                                                   before merging
    <out>/chunks/chunk_000/state.json             fingerprint of the run, chunk range, seed, timings

A chunk is written into a hidden `.chunk_000.partial-*` folder and renamed into place when complete, so a
run killed mid-chunk leaves no `chunk_000/` and that chunk is redone. The fingerprint holds everything
that decides a chunk's content (image, trajectory, model, seed, steps, guidance, prompt, overlap), not the
merge policy: `--resume --merge align` re-merges finished chunks without generating anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from torch import Tensor

from ..errors import InputError
from ..gaussians import Gaussians
from ..geometry import Cameras
from ..io import write_json

FORMAT = "wonderland.chunk"
_GAUSSIAN_FIELDS = ("means", "quats", "scales", "opacities", "colors")


def tensor_digest(*tensors: Tensor) -> str:
    h = hashlib.sha256()
    for t in tensors:
        t = t.detach().cpu().contiguous()
        h.update(str((t.dtype, tuple(t.shape))).encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()[:16]


def fingerprint(image: Tensor, trajectory: Cameras, model: str, seed: int, steps: int, guidance: float,
                prompt: str, overlap: int) -> dict:
    """What decides every chunk's content; a resumed run must match it key by key."""
    return {"image": tensor_digest(image.float()), "trajectory": tensor_digest(trajectory.c2w.double(),
                                                                                trajectory.K.double()),
            "size": [trajectory.height, trajectory.width], "frames": len(trajectory), "model": model,
            "seed": seed, "steps": steps, "guidance": guidance, "prompt": prompt, "overlap": overlap}


class ChunkStore:
    def __init__(self, out_dir: str | Path, fingerprint: dict):
        self.root = Path(out_dir) / "chunks"
        self.fingerprint = fingerprint

    def path(self, index: int) -> Path:
        return self.root / f"chunk_{index:03d}"

    def clear(self) -> None:
        """Forget every stored chunk (a run without --resume starts over)."""
        if self.root.is_dir():
            shutil.rmtree(self.root)

    def states(self) -> list[dict]:
        """States of the chunks finished in order (0, 1, ...), checked against this run's fingerprint
        (InputError naming the first key that differs). Reads only."""
        states = []
        while (self.path(len(states)) / "state.json").is_file():
            path = self.path(len(states)) / "state.json"
            try:
                state = json.loads(path.read_text())
            except json.JSONDecodeError as e:
                raise InputError(path, None, f"malformed JSON ({e}); delete {self.root} to start over") from None
            if state.get("format") != FORMAT:
                raise InputError(path, "format", f"expected '{FORMAT}'")
            old = state.get("fingerprint", {})
            for key, value in self.fingerprint.items():
                if old.get(key) != value:
                    raise InputError(path, f"fingerprint.{key}", f"this chunk was made with {old.get(key)!r}, this "
                                     f"run has {value!r}; run without --resume (or delete {self.root}) to start over")
            states.append(state)
        return states

    def finished(self) -> list[dict]:
        """`states()`, then removes half-written chunks and anything after the first missing chunk."""
        states = self.states()
        if not self.root.is_dir():
            return states
        for partial in self.root.glob(".chunk_*.partial-*"):
            shutil.rmtree(partial, ignore_errors=True)
        for stale in self.root.glob("chunk_*"):
            number = stale.name.removeprefix("chunk_")
            if stale.is_dir() and number.isdigit() and int(number) >= len(states):
                shutil.rmtree(stale)
        return states

    def save(self, index: int, frames: Tensor, latents: Tensor, gaussians: Gaussians, state: dict) -> None:
        from safetensors.torch import save_file

        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".chunk_{index:03d}.partial-", dir=self.root))
        try:
            save_file({"frames": frames.contiguous()}, str(tmp / "frames.safetensors"))
            save_file({"latents": latents.detach().float().cpu().contiguous()}, str(tmp / "latents.safetensors"))
            save_file({k: getattr(gaussians, k).detach().float().cpu().contiguous() for k in _GAUSSIAN_FIELDS},
                      str(tmp / "gaussians.safetensors"))
            write_json(tmp / "state.json", {"format": FORMAT, "version": 1, "fingerprint": self.fingerprint,
                                            **state})
            target = self.path(index)
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def load(self, index: int) -> tuple[Tensor, Tensor, Gaussians]:
        """-> frames (F, 3, H, W) uint8, latents (16, T, h, w), Gaussians (G,) of a finished chunk."""
        from safetensors.torch import load_file

        d = self.path(index)
        frames = load_file(str(d / "frames.safetensors"))["frames"]
        latents = load_file(str(d / "latents.safetensors"))["latents"]
        g = load_file(str(d / "gaussians.safetensors"))
        return frames, latents, Gaussians(*(g[k] for k in _GAUSSIAN_FIELDS))
