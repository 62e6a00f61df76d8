"""Training data: latent cache == on-the-fly encoding, the generated-clip format, deterministic mixing."""

import json
from pathlib import Path

import imageio.v3 as iio
import pytest
import torch
from safetensors.torch import save_file

from lalrm.cache import cache_latents
from lalrm.config import build_config
from lalrm.data import GeneratedClips, build_stream, prepare_batch
from lalrm.train import build_vae
from wonderland.data.latent_cache import LatentCache
from wonderland.errors import InputError
from wonderland.geometry import Cameras
from wonderland.vae import encode_video

from .conftest import compose, orbit_cameras, smoke_overrides


def test_latent_cache_agrees_with_on_the_fly_encoding(synth_root, tmp_path):
    cfg = build_config(compose(smoke_overrides("lowres", synth_root, tmp_path / "run")
                               + [f"data.cache_dir={tmp_path / 'cache'}"]))
    paths = cache_latents(cfg, 2, progress=False)
    assert [p.name for p in paths] == ["00000000.safetensors", "00000001.safetensors"]
    cache, stream = LatentCache(tmp_path / "cache", require=("supervision",)), build_stream(cfg, captured=True)
    vae = build_vae(cfg, "cpu")
    with pytest.raises(InputError, match="no image tensors"):  # a LaLRM cache is not a camera-video cache
        LatentCache(tmp_path / "cache", require=("image",))
    for i in range(2):
        cached, fresh = cache[i], stream[i]
        assert cached["key"] == f"{i:08d}"
        assert torch.allclose(cached["latents"], encode_video(vae, fresh["frames"][None])[0], atol=1e-5)
        for k in ("c2w", "K", "sup_frames", "sup_c2w", "sup_K", "sup_is_seen"):
            assert torch.equal(cached[k], fresh[k]), k
    # the cached samples form a batch without any VAE
    batch = prepare_batch([cache[0], cache[1]], None, torch.device("cpu"))
    assert batch["latents"].shape == (2, 16, 3, 4, 6) and batch["cameras"].shape == (2, 9)
    assert (batch["cameras"].height, batch["sup_cameras"].height) == (32, 16)
    with pytest.raises(InputError, match="VAE"):
        prepare_batch([stream[0]], None, torch.device("cpu"))


def write_generated_clip(folder: Path, cams: Cameras, frames: torch.Tensor, latents: torch.Tensor) -> None:
    """The format the camera-video pipeline writes (lalrm/data.py)."""
    (folder / "frames").mkdir(parents=True)
    save_file({"latents": latents}, str(folder / "latents.safetensors"))
    (folder / "cameras.json").write_text(json.dumps({"height": cams.height, "width": cams.width,
                                                     "c2w": cams.c2w.tolist(), "K": cams.K.tolist()}))
    for i, f in enumerate(frames):
        iio.imwrite(folder / "frames" / f"{i:05d}.png", (f.permute(1, 2, 0) * 255).round().byte().numpy())


def test_generated_clips_are_normalised_and_resized(tmp_path):
    cams = orbit_cameras(1, 9, 32, 48)[0]
    cams = Cameras(cams.c2w.clone(), cams.K, 32, 48)
    cams.c2w[:, :3, 3] = cams.c2w[:, :3, 3] * 5 + torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)  # user units
    frames = torch.rand(9, 3, 32, 48)
    write_generated_clip(tmp_path / "clip_a", cams, frames, torch.randn(16, 3, 4, 6))
    item = GeneratedClips(tmp_path, num_views=4, sup_height=16, sup_width=24)[0]
    assert torch.allclose(item["c2w"][0], torch.eye(4), atol=1e-6)  # relative to frame 0 ...
    assert item["c2w"][:, :3, 3].norm(dim=-1).max() == pytest.approx(1.0, abs=1e-5)  # ... and scale-normalised
    assert item["sup_frames"].shape == (4, 3, 16, 24) and bool(item["sup_is_seen"].all())
    assert torch.allclose(item["sup_K"][0], cams.resize(16, 24).K[0].float())
    # each supervision view is a frame of the clip with that frame's (normalised) pose
    views = [int((item["c2w"] - v).abs().flatten(1).amax(1).argmin()) for v in item["sup_c2w"]]
    expected = torch.nn.functional.interpolate(frames[views], size=(16, 24), mode="area")
    assert torch.allclose(item["sup_frames"], expected, atol=1 / 255)


def test_highres_stream_mixes_generated_clips_at_the_configured_fraction(synth_root, tmp_path):
    cams = orbit_cameras(1, 9, 32, 48)[0]
    write_generated_clip(tmp_path / "gen" / "clip_a", cams, torch.rand(9, 3, 32, 48), torch.randn(16, 3, 4, 6))
    cfg = build_config(compose(smoke_overrides("highres", synth_root, tmp_path / "run")
                               + [f"data.generated.root={tmp_path / 'gen'}", "data.generated.ratio=0.3"]))
    stream = build_stream(cfg)
    generated = [i for i in range(400) if isinstance(stream.sources[stream.locate(i)[0]][0], GeneratedClips)]
    assert abs(len(generated) / 400 - 0.3) < 0.07
    captured = next(i for i in range(400) if i not in generated)
    assert stream[generated[0]]["key"] == "clip_a" and stream[captured]["key"].startswith("synth_")
    vae = build_vae(cfg, "cpu")
    batch = prepare_batch([stream.sources[1][0][0], stream.sources[0][0][0]], vae, torch.device("cpu"))
    assert batch["latents"].shape == (2, 16, 3, 4, 6) and batch["sup_frames"].shape == (2, 2, 3, 16, 24)

