"""The generated-clip format (wonderland.data.generated_clips): writer -> reader round trip of every field, the
version check, atomic writes."""

import json

import pytest
import torch

from wonderland.data.generated_clips import (
    VERSION,
    is_clip,
    list_clips,
    read_clip,
    read_frames,
    read_header,
    write_clip,
)
from wonderland.errors import InputError
from wonderland.geometry import Cameras, K_from_fov, look_at
from wonderland.trajectories import load_trajectory

F, H, W = 49, 32, 48
PROVENANCE = {"image": {"path": "images/a.png", "sha256": "ab" * 32}, "trajectory": {
    "source": "paths", "kind": "files", "key": "walk.txt", "frame_indices": list(range(3, 150, 3)), "stride": 3},
    "prompt": "a room", "seed": 12, "steps": 50, "guidance": 6.0, "family": {"name": "f", "fingerprint": "0f"},
    "wonderland_version": "0.1.0"}


def clip_inputs(seed: int = 0):
    """Latents, cameras in user units (per-frame focal lengths: no shared intrinsics) and frames of 8-bit values."""
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, F, dtype=torch.float64)
    eyes = torch.stack([2 * t.sin(), 0.3 * t, -4 + 3 * t], -1) + 10  # far from the origin, not unit scale
    K = K_from_fov(50.0, H, W).expand(F, 3, 3).clone()
    K[:, 0, 0] += torch.arange(F)
    cams = Cameras(look_at(eyes, eyes + torch.tensor([0.3, 0.1, 1.0], dtype=torch.float64)), K, H, W)
    frames = torch.randint(0, 256, (F, 3, H, W), generator=g).float() / 255
    return torch.randn(16, 13, H // 8, W // 8, generator=g), cams, frames


def test_every_field_round_trips(tmp_path):
    latents, cams, frames = clip_inputs()
    write_clip(tmp_path / "clip", latents, cams, frames, "AutoencoderKLCogVideoX:0123", 0.7, PROVENANCE)
    clip = read_clip(tmp_path / "clip")
    h = clip.header
    assert (h.version, h.num_frames, h.height, h.width, h.latent_shape) == (VERSION, F, H, W, (16, 13, 4, 6))
    assert (h.vae_identity, h.vae_scaling_factor, h.provenance) == ("AutoencoderKLCogVideoX:0123", 0.7, PROVENANCE)
    assert torch.equal(clip.latents, latents)
    assert torch.equal(clip.cameras.c2w, cams.c2w) and torch.equal(clip.cameras.K, cams.K)
    assert (clip.cameras.height, clip.cameras.width) == (H, W)
    assert torch.equal(clip.frames, frames)  # lossless: 8-bit values come back exactly
    # the cameras are a plain project trajectory (wonderland-trajectory show reads them) ...
    assert torch.equal(load_trajectory(tmp_path / "clip" / "cameras.json").c2w, cams.c2w)
    # ... and the latents file says which VAE made it, readable without clip.json
    from safetensors import safe_open

    with safe_open(str(tmp_path / "clip" / "latents.safetensors"), "pt") as f:
        assert f.metadata() == {"format": "wonderland.generated-clip", "version": "1",
                                "vae_identity": "AutoencoderKLCogVideoX:0123", "vae_scaling_factor": "0.7"}
    # frames one at a time, in the order asked (a training sample reads only its views)
    assert torch.equal(read_clip(tmp_path / "clip", frames=[5, 2]).frames, frames[[5, 2]])
    assert read_clip(tmp_path / "clip", frames=False).frames is None
    assert torch.equal(read_frames(tmp_path / "clip", [48]), frames[48:])


def test_a_newer_version_is_refused_in_one_line(tmp_path):
    latents, cams, frames = clip_inputs()
    write_clip(tmp_path / "clip", latents, cams, frames, "vae:0", 0.7, PROVENANCE)
    header = tmp_path / "clip" / "clip.json"
    data = json.loads(header.read_text())
    header.write_text(json.dumps(data | {"version": VERSION + 1}))
    with pytest.raises(InputError) as e:
        read_clip(tmp_path / "clip")
    assert str(e.value) == (f"{header}: field 'version': clip format version {VERSION + 1} is newer than this "
                            f"reader's ({VERSION}): upgrade wonderland to read it")
    header.write_text(json.dumps(data | {"format": "wonderland.trajectory"}))
    with pytest.raises(InputError, match="field 'format': expected 'wonderland.generated-clip'"):
        read_header(tmp_path / "clip")
    header.write_text(json.dumps(data | {"latent_shape": [16, 13, 8, 12]}))
    with pytest.raises(InputError, match=r"latent_shape.*expected \[16, 13, 4, 6\]"):
        read_header(tmp_path / "clip")


def test_files_that_disagree_with_the_header_are_refused(tmp_path):
    latents, cams, frames = clip_inputs()
    write_clip(tmp_path / "clip", latents, cams, frames, "vae:0", 0.7, PROVENANCE)
    from safetensors.torch import save_file

    save_file({"latents": latents[:, :12].contiguous()}, str(tmp_path / "clip" / "latents.safetensors"))
    with pytest.raises(InputError, match=r"latents.safetensors: field 'latents': expected shape \[16, 13, 4, 6\]"):
        read_clip(tmp_path / "clip")
    with pytest.raises(ValueError, match="do not match 49 cameras"):  # the writer checks its inputs
        write_clip(tmp_path / "other", latents[:, :12], cams, frames, "vae:0", 0.7, PROVENANCE)


def test_an_interrupted_write_leaves_no_clip_and_the_next_write_completes(tmp_path, monkeypatch):
    """A writer killed mid-clip (here: in the 10th frame) leaves nothing under the clip's name; writing again
    publishes the whole clip."""
    from PIL import Image

    latents, cams, frames = clip_inputs()
    save, calls = Image.Image.save, []

    def dying_save(self, *a, **k):
        calls.append(1)
        if len(calls) == 10:
            raise KeyboardInterrupt
        return save(self, *a, **k)

    monkeypatch.setattr(Image.Image, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        write_clip(tmp_path / "clip", latents, cams, frames, "vae:0", 0.7, PROVENANCE)
    assert not (tmp_path / "clip").exists() and not is_clip(tmp_path / "clip") and list_clips(tmp_path) == []
    monkeypatch.setattr(Image.Image, "save", save)
    write_clip(tmp_path / "clip", latents, cams, frames, "vae:0", 0.7, PROVENANCE)
    assert list_clips(tmp_path) == [tmp_path / "clip"] and torch.equal(read_clip(tmp_path / "clip").frames, frames)
