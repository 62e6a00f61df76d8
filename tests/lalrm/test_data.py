"""Training data: latent cache == on-the-fly encoding, the generated-clip format, deterministic mixing."""

from pathlib import Path

import pytest
import torch

from lalrm.cache import cache_latents
from lalrm.config import build_config
from lalrm.data import GeneratedClips, build_stream, prepare_batch
from lalrm.train import build_vae
from wonderland.data.generated_clips import write_clip
from wonderland.data.latent_cache import LatentCache
from wonderland.errors import InputError
from wonderland.geometry import Cameras
from wonderland.vae import build_tiny_vae, encode_video, vae_identity

from .conftest import compose, orbit_cameras, smoke_overrides

TINY_VAE = vae_identity(build_tiny_vae())  # the identity of data=synthetic's VAE (vae.tiny)


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


def write_generated_clip(folder: Path, cams: Cameras, frames: torch.Tensor, latents: torch.Tensor,
                         vae: str = TINY_VAE) -> None:
    write_clip(folder, latents, cams, frames, vae, 0.7, {"image": {"path": "test"}})


def test_generated_clips_are_normalised_and_resized_like_captured_clips(tmp_path):
    """A generated clip's sample equals what the captured-data path (a RealEstate10K scene read by
    `wonderland.data`) makes of the same frames and cameras: poses relative to frame 0 and scale-normalised,
    supervision frames centre-cropped and resized with their intrinsics (here to a square, so the crop shows)."""
    from wonderland.data import open_scenes
    from wonderland.data.re10k import write_re10k_scene
    from wonderland.geometry import normalize_poses

    cams = orbit_cameras(1, 9, 32, 48)[0]
    cams = Cameras(cams.c2w.clone(), cams.K, 32, 48)
    cams.c2w[:, :3, 3] = cams.c2w[:, :3, 3] * 5 + torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)  # user units
    frames = (torch.rand(9, 3, 32, 48) * 255).round() / 255  # 8-bit values: both formats store them exactly
    write_generated_clip(tmp_path / "gen" / "clip_a", cams, frames, torch.randn(16, 3, 4, 6))
    item = GeneratedClips(tmp_path / "gen", 9, 32, 48, num_views=4, sup_height=16, sup_width=16)[0]
    assert torch.allclose(item["c2w"][0], torch.eye(4), atol=1e-6)  # relative to frame 0 ...
    assert item["c2w"][:, :3, 3].norm(dim=-1).max() == pytest.approx(1.0, abs=1e-5)  # ... and scale-normalised
    assert item["sup_frames"].shape == (4, 3, 16, 16) and bool(item["sup_is_seen"].all())
    # each supervision view is a frame of the clip with that frame's (normalised) pose
    views = [int((item["c2w"] - v).abs().flatten(1).amax(1).argmin()) for v in item["sup_c2w"]]
    assert len(set(views)) == 4

    write_re10k_scene(tmp_path / "cap", "scene", cams, (frames * 255).round().byte(), list(range(9)))
    scene = open_scenes("re10k", tmp_path / "cap")[0]
    sup_frames, sup_cams = scene.load_frames(views, 16, 16)
    assert torch.allclose(item["sup_frames"], sup_frames, atol=1e-6)
    assert torch.allclose(item["sup_K"], sup_cams.K.float(), atol=1e-5)
    assert torch.allclose(item["sup_c2w"], normalize_poses(scene.cameras.c2w)[0][views].float(), atol=1e-5)
    # more views than frames: every frame, then repeats (the batch needs a fixed V)
    many = GeneratedClips(tmp_path / "gen", 9, 32, 48, num_views=12, sup_height=32, sup_width=48)[0]
    assert many["sup_frames"].shape == (12, 3, 32, 48) and len({tuple(c.flatten().tolist()) for c in
                                                                 many["sup_c2w"]}) == 9


def test_generated_clips_that_do_not_fit_the_run_are_refused_before_training(tmp_path):
    cams = orbit_cameras(1, 9, 32, 48)[0]
    write_generated_clip(tmp_path / "clip_a", cams, torch.rand(9, 3, 32, 48), torch.randn(16, 3, 4, 6))
    for args, problem in (((17, 32, 48), "frames 9, the training run uses 17"),
                          ((9, 64, 96), r"video size \(32, 48\), the training run uses \(64, 96\)")):
        with pytest.raises(InputError, match=f"data.generated.root=.*clip_a has {problem}"):
            GeneratedClips(tmp_path, *args, num_views=2, sup_height=16, sup_width=24)
    with pytest.raises(InputError, match="clip_a has VAE .* the training run uses Other:0"):
        GeneratedClips(tmp_path, 9, 32, 48, 2, 16, 24, vae_identity="Other:0")
    with pytest.raises(InputError, match="data.generated.root=.*expected a folder of generated clips"):
        GeneratedClips(tmp_path / "clip_a", 9, 32, 48, 2, 16, 24)


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

