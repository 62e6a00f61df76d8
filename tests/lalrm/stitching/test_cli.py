"""`python -m lalrm.stitching search | fit | pretrain` end to end on synthetic clips, the bundled demo VAE and a tiny
RGB LRM: the outputs and what they mean, bad values refused before any work, and a killed fine-tune resumed."""

import json

import imageio.v3 as iio
import pytest
import torch
from safetensors.torch import load_file

from lalrm.decoders import load_decoder
from lalrm.stitching import RGBLRM, StitchedDecoder
from lalrm.stitching.__main__ import main
from lalrm.stitching.search import grid_rows
from wonderland.cli.generate import default_model_dir
from wonderland.testing import killed_after_checkpoint, tiny_lalrm_kwargs

DEMO_VAE = default_model_dir() / "base" / "vae"
STITCH = "conv3d_k1x2x2_o64_s4x2x2_p0x0x0"  # the 2 x 2 latents under a token: 64 unknowns
CLIPS = 8  # x 3 x 2 x 3 tokens = 144 rows for the 64 unknowns


@pytest.fixture(scope="module")
def rgb_dir(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("rgb") / "model"
    RGBLRM(**tiny_lalrm_kwargs(head_stride=4)).save_pretrained(path)
    return path


def common(synth_root, rgb_dir) -> list[str]:
    return [f"model.path={rgb_dir}", f"vae.path={DEMO_VAE}", "clip.num_frames=9", "clip.height=32", "clip.width=48",
            "~data.sources.dl3dv", f"+data.sources.synth={{kind: re10k, root: {synth_root}, strides: [4]}}"]


def search_args(synth_root, rgb_dir, out) -> list[str]:
    return ["search", *common(synth_root, rgb_dir), f"stitch={STITCH}", f"num_clips={CLIPS}", "batch_size=4",
            "progress=false", f"output_dir={out}"]


@pytest.fixture(scope="module")
def searched(synth_root, rgb_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("search")
    assert main(search_args(synth_root, rgb_dir, out)) == 0
    return out


def test_search_writes_the_mse_per_layer_the_plot_and_the_decoder_at_the_best_layer(searched, synth_root, rgb_dir):
    report = json.loads((searched / "search.json").read_text())
    layers = {r["name"]: r for r in report["layers"]}
    assert list(layers) == RGBLRM.from_pretrained(rgb_dir).candidate_layers()
    assert report["best"] == min(layers, key=lambda n: layers[n]["relative_mse"]) and report["criterion"] == "relative"
    assert report["rows"] == CLIPS * 3 * 2 * 3 and report["stitch"] == STITCH
    assert iio.imread(searched / "mse.png").ndim == 3
    assert sorted(p.name for p in searched.iterdir()) == ["decoder", "mse.png", "search.json"]  # no temporaries
    # The saved decoder's conv IS the fitted map: on the searched clips its residual to the RGB LRM's activation at
    # k* is the reported MSE.
    from lalrm.config import SourceConfig
    from lalrm.stitching.config import ClipConfig, DataConfig
    from lalrm.stitching.data import clip_stream, collate_clips
    from wonderland.vae import encode_video, load_vae

    decoder = load_decoder(searched / "decoder")
    assert isinstance(decoder, StitchedDecoder) and decoder.config.layer == report["best"]
    rgb, vae = RGBLRM.from_pretrained(rgb_dir).eval(), load_vae(DEMO_VAE)
    stream = clip_stream(DataConfig({"synth": SourceConfig("re10k", str(synth_root), [4])}), ClipConfig(9, 32, 48), 0)
    frames, cams = collate_clips([stream[i] for i in range(CLIPS)])
    seen = {}
    handle = rgb.get_submodule(report["best"]).register_forward_hook(
        lambda m, i, o: seen.update(a=rgb.layer_to_grid(report["best"], o, 9, 32, 48)))
    with torch.no_grad():
        rgb.forward_rgb(frames, cams)
        predicted = decoder.stitching(encode_video(vae, frames))
    handle.remove()
    mse = (grid_rows(predicted) - grid_rows(seen["a"])).pow(2).mean().item()
    assert mse == pytest.approx(layers[report["best"]]["mse"], rel=1e-3)


@pytest.mark.parametrize("override,words", [
    ("stitch=conv3d_k1x2x2_o32_s4x2x2_p0x0x0", r"stitch=.*into \(C, T', h', w'\) = \(32, 3, 2, 3\), but layer "
                                               r"tokenizer.rgb_embed is \(64, 3, 2, 3\)"),
    ("stitch=conv3d_k1x2x2_o64_s1x2x2_p0x0x0", r"into .* = \(64, 9, 2, 3\)"),
    ("stitch=conv3d_k5", "stitch=conv3d_k5: stitching spec"),
    ("layers=[tokenizer,head]", "'head' is not a candidate layer"),
    ("ridge=-1", "ridge=-1.0: expected a finite number >= 0"),
    ("num_clips=0", "num_clips=0: expected an integer >= 1"),
    ("criterion=r2", "criterion=r2: expected one of mse, relative"),
    ("clip.height=30", "clip.height=30: expected a multiple of 8"),
    ("model.adapter=anysplat", "model.adapter=anysplat: unknown adapter"),
    ("model.path=/nonexistent", "model.path=/nonexistent: expected an existing folder"),
    ("vae.path=/nonexistent", "vae.path=/nonexistent: expected an existing folder"),
    ("data.sources.synth.root=/nonexistent", "data.sources.synth.root=/nonexistent"),
])
def test_bad_search_values_exit_2_with_one_line_before_writing_anything(override, words, synth_root, rgb_dir, tmp_path,
                                                                       capsys):
    out = tmp_path / "never"
    assert main(search_args(synth_root, rgb_dir, out) + [override]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("lalrm.stitching search: error:")
    assert __import__("re").search(words, err), err
    assert not out.exists()


@pytest.fixture(scope="module")
def start(rgb_dir, tmp_path_factory):
    """A stitched decoder at `tokenizer` (the search's k* on an untrained model is arbitrary): LoRA has the
    transformer blocks to wrap."""
    path = tmp_path_factory.mktemp("start") / "decoder"
    StitchedDecoder.from_model(RGBLRM.from_pretrained(rgb_dir), "rgb_lrm", "tokenizer", STITCH).save_pretrained(path)
    return path


def fit_args(synth_root, rgb_dir, decoder, out, *extra) -> list[str]:
    return ["fit", f"decoder={decoder}", *common(synth_root, rgb_dir), f"trainer.output_dir={out}",
            "trainer.max_steps=2", "trainer.batch_size=1", "trainer.checkpoint_every=1", "trainer.log_every=1",
            "trainer.mixed_precision=no", "trainer.progress=false", "trainer.num_workers=0", "optim.warmup_steps=0",
            "lora.rank=4", "lora.alpha=4", "optim.lr=1e-2", *extra]


def weights(folder):
    return load_file(folder / "diffusion_pytorch_model.safetensors")


def test_fit_trains_stitch_and_lora_saves_a_plain_decoder_and_resumes_after_a_kill(start, synth_root, rgb_dir,
                                                                                    tmp_path):
    assert main(fit_args(synth_root, rgb_dir, start, tmp_path / "full")) == 0
    final = weights(tmp_path / "full" / "model")
    before = weights(start)
    assert set(final) == set(before)  # the LoRA is merged: a plain StitchedDecoder folder, no peft keys
    assert isinstance(load_decoder(tmp_path / "full" / "model"), StitchedDecoder)
    changed = {k for k in final if not torch.equal(final[k], before[k])}
    assert "stitching.conv.weight" in changed and "model.head.deconv.weight" in changed  # trained in full
    assert "model.transformer.blocks.0.qkv.weight" in changed  # LoRA, merged
    assert not any("norm" in k for k in changed)  # frozen under LoRA
    log = [json.loads(line) for line in (tmp_path / "full" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2] and {"l1_colors", "l1_scales", "l1_distance"} <= set(log[0])
    assert "l1_means" not in log[0]  # weight 0: not compared
    ckpt = load_file(tmp_path / "full" / "checkpoints" / "step-00000002" / "model.safetensors")
    assert all("lora" in k or k.startswith(("stitching.", "model.head.deconv.")) for k in ckpt)  # trainable only

    with killed_after_checkpoint(1):
        main(fit_args(synth_root, rgb_dir, start, tmp_path / "killed"))
    assert not (tmp_path / "killed" / "model").exists()
    assert main(fit_args(synth_root, rgb_dir, start, tmp_path / "killed")) == 0  # trainer.resume=auto
    resumed = weights(tmp_path / "killed" / "model")
    assert all(torch.equal(resumed[k], final[k]) for k in final)


def test_fit_without_lora_trains_every_kept_layer(start, synth_root, rgb_dir, tmp_path):
    assert main(fit_args(synth_root, rgb_dir, start, tmp_path / "run", "lora.rank=0", "trainer.max_steps=1")) == 0
    final, before = weights(tmp_path / "run" / "model"), weights(start)
    assert any("norm" in k and not torch.equal(final[k], before[k]) for k in final)


@pytest.mark.parametrize("override,words", [
    ("+loss.weights.depth=1", "loss.weights.depth.*not an output of rgb_lrm"),
    ("loss.weights.dept=1", "loss.weights.dept=1: unknown key"),
    ("loss.weights.colors=-1", "loss.weights.colors=-1.0: expected a finite number >= 0"),
    ("lora.rank=-1", "lora.rank=-1: expected an integer >= 0"),
    ("trainer.max_steps=0", "trainer.max_steps=0: expected an integer >= 1"),
    ("optim.lr=0", "optim.lr=0.0"),
    ("decoder=/nonexistent", "decoder=/nonexistent: expected an existing folder"),
    ("model.path=RGB2", "was stitched from another model"),
])
def test_bad_fit_values_exit_2_before_any_work(override, words, start, synth_root, rgb_dir, tmp_path, capsys):
    if override == "model.path=RGB2":  # another architecture than the decoder was stitched from
        RGBLRM(**tiny_lalrm_kwargs(head_stride=4, depth=3)).save_pretrained(tmp_path / "rgb2")
        override = f"model.path={tmp_path / 'rgb2'}"
    out = tmp_path / "never"
    assert main(fit_args(synth_root, rgb_dir, start, out, override)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and __import__("re").search(words, err), err
    assert not out.exists()


def test_pretrain_trains_the_rgb_lrm_on_frames_with_the_lalrm_config(synth_root, tmp_path, capsys):
    args = ["pretrain", "model=tiny", "data=synthetic", "trainer=smoke", f"data.sources.synthetic.root={synth_root}",
            "loss.perceptual=0", f"trainer.output_dir={tmp_path / 'run'}", "stage.init_from=null"]
    assert main(args) == 0
    model = RGBLRM.from_pretrained(tmp_path / "run" / "model")
    fresh = RGBLRM(**{k: v for k, v in model.stitch_config().items()})
    assert not torch.equal(model.tokenizer.rgb_embed.weight, fresh.tokenizer.rgb_embed.weight)
    assert main(args[:-1] + ["data.latents=cache"]) == 2
    assert "data.latents=cache: the RGB LRM reads frames" in capsys.readouterr().err
    assert main(["fitt"]) == 2 and main(["--help"]) == 0
