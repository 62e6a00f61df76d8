"""The demo recipe's fine-tuning step (`wonderland.demo.recipe.finetune_family`): the VAE decoder learns while the
encoder
and the latent scale stay bit-identical (the video model and the LaLRM depend on them), and the script writes a
family whose video model is the original's, byte for byte, with new decoder and LaLRM weights."""

import json
from pathlib import Path

import pytest
import torch

from wonderland.demo.common import HEIGHT, WIDTH, Clips
from wonderland.demo.recipe import finetune_family as main
from wonderland.demo.recipe import parse_finetune_args as parse_args
from wonderland.demo.vae_stage import train_decoder

ROOT = Path(__file__).resolve().parents[1]

FAMILY = ROOT / "models" / "wonderland-demo"


def _clips(n: int = 2) -> Clips:
    gen = torch.Generator().manual_seed(0)
    # bright frames, a colour per 8 x 8 block: a random decoder's output is far off, and its bias learns it fast
    frames = 0.7 + 0.3 * torch.rand(n, 49, 3, HEIGHT // 8, WIDTH // 8, generator=gen).repeat_interleave(8, -2)
    frames = frames.repeat_interleave(8, -1)
    return Clips(frames, torch.eye(4).expand(n, 49, 4, 4), torch.eye(3).expand(n, 49, 3, 3), ["a", "b"][:n])


def _reconstruction_error(vae, clips: Clips) -> float:
    x = clips.frames[:, :9].permute(0, 2, 1, 3, 4) * 2 - 1  # (B, 3, 9, H, W)
    with torch.no_grad():
        return float((vae.decode(vae.encode(x).latent_dist.mode()).sample - x).abs().mean())


def test_train_decoder_learns_and_leaves_the_latent_space_alone(tmp_path):
    from wonderland.vae import build_tiny_vae

    torch.manual_seed(0)
    vae = build_tiny_vae(HEIGHT, WIDTH).eval()
    vae.register_to_config(scaling_factor=1.2345)
    clips = _clips()
    encoder = {k: v.clone() for k, v in vae.encoder.state_dict().items()}
    decoder = {k: v.clone() for k, v in vae.decoder.state_dict().items()}
    error = _reconstruction_error(vae, clips)
    vae, stats = train_decoder(vae, clips, steps=20, out=tmp_path / "run", lr=3e-3)
    assert stats["steps"] == 20 and stats["trained"] == "decoder"
    assert vae.config.scaling_factor == 1.2345
    assert all(torch.equal(v, encoder[k]) for k, v in vae.encoder.state_dict().items())
    assert not all(torch.equal(v, decoder[k]) for k, v in vae.decoder.state_dict().items())
    assert not any(p.requires_grad for p in vae.parameters()) and not vae.training
    assert _reconstruction_error(vae, clips) < 0.8 * error


@pytest.mark.parametrize("argv, message", [(["--family", "no/such/family"], "not a model family"),
                                           (["--lalrm-steps", "0"], "--lalrm-steps 0: expected an integer >= 1"),
                                           (["--decoder-steps", "-1"], "--decoder-steps -1"),
                                           (["--lalrm-frames", "10"], "--lalrm-frames 10"),
                                           (["--lalrm-color-tv", "-0.1"], "--lalrm-color-tv -0.1")])
def test_finetune_rejects_bad_options_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


def _digest(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_finetune_writes_a_family_with_the_same_video_model(tmp_path):
    from wonderland.pipeline import WonderlandPipeline
    from wonderland.vae import load_vae

    out = tmp_path / "family"
    assert main(["--family", str(FAMILY), "--out", str(out), "--work", str(tmp_path / "work"), "--scenes", "2",
                 "--heldout-scenes", "1", "--decoder-steps", "2", "--lalrm-steps", "2", "--threads", "2"]) == 0
    assert not (tmp_path / "family.tmp").exists()
    for part in ("base/transformer", "base/scheduler", "camera"):  # the video model: untouched
        assert _digest(out / part) == _digest(FAMILY / part)
    old, new = load_vae(FAMILY / "base" / "vae"), load_vae(out / "base" / "vae")
    assert old.config.scaling_factor == new.config.scaling_factor
    assert all(torch.equal(v, old.encoder.state_dict()[k]) for k, v in new.encoder.state_dict().items())
    assert not all(torch.equal(v, old.decoder.state_dict()[k]) for k, v in new.decoder.state_dict().items())
    assert _digest(out / "lalrm") != _digest(FAMILY / "lalrm")
    assert not list(out.glob("eval_*.json")) and not list(out.glob("frames/test_*.png"))
    training = json.loads((out / "training.json").read_text())
    assert training["vae"] == json.loads((FAMILY / "training.json").read_text())["vae"]
    entry = training["finetune"][-1]
    assert entry["train_scenes"] == 2 and entry["vae_decoder"]["steps"] == 2 and entry["lalrm"]["steps"] == 2
    WonderlandPipeline.from_pretrained(out)  # the manifest still points at every part


@pytest.mark.parametrize("frames, stride", [(9, 6), (49, 1), (13, 4)])
def test_lalrm_overrides_compose_clips_that_span_the_scene(frames, stride, tmp_path):
    from wonderland.demo.lalrm_stage import CONFIG_DIR, clip_stride, lalrm_overrides
    from wonderland.hydra_entry import compose

    cfg = compose(CONFIG_DIR, lalrm_overrides(tmp_path, tmp_path, tmp_path, 10, frames=frames, full_res=frames == 49))
    assert cfg.num_frames == frames and list(cfg.data.sources.synthetic.strides) == [stride]
    assert (frames - 1) * stride == 48  # frame 0 to frame 48: the pose normalisation of a 49-frame trajectory
    assert (cfg.stage.sup_height, cfg.stage.sup_width) == ((HEIGHT, WIDTH) if frames == 49 else (16, 24))
    for bad in (10, 21, 1):
        with pytest.raises(ValueError, match="clip frames"):
            clip_stride(bad)


def test_finetune_lalrm_alone_on_whole_clips_keeps_the_vae(tmp_path):
    """Step 3 of the recipe at tiny size: --decoder-steps 0 copies the VAE as it is; the LaLRM trains on 49-frame
    clips supervised at full size, and the family's training.json says so."""
    out = tmp_path / "family"
    assert main(["--family", str(FAMILY), "--out", str(out), "--work", str(tmp_path / "work"), "--scenes", "1",
                 "--heldout-scenes", "1", "--decoder-steps", "0", "--lalrm-steps", "1", "--lalrm-frames", "49",
                 "--lalrm-full-res", "--threads", "2"]) == 0
    for part in ("base", "camera"):  # the video model and the VAE: byte for byte
        assert _digest(out / part) == _digest(FAMILY / part)
    assert _digest(out / "lalrm") != _digest(FAMILY / "lalrm")
    entry = json.loads((out / "training.json").read_text())["finetune"][-1]
    assert "vae_decoder" not in entry
    assert entry["lalrm"]["clip_frames"] == 49 and entry["lalrm"]["supervision"] == [HEIGHT, WIDTH]
