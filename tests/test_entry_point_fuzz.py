"""Fuzz harness: every option and config field of every entry point is checked before any work starts.

For each entry point in ENTRIES and each of its options (argparse `--name` or Hydra `key`):
  - `test_invalid_values_are_refused`: values drawn from the option's `invalid` strategy (hypothesis) must give
    exit status 2, exactly one line on stderr (`PROG...: error: ...`) naming the option, no traceback, and no
    file written; the entry's `tripwires` (the functions that do the work: load a model, render, write) must
    not be reached. `slow`-marked twin: the same with many more examples.
  - `test_misspelt_names_are_refused`: the option's name with its last letter doubled is refused the same way.
  - `test_edge_values_run`: one run with every option at its `edge` value (the smallest allowed) must succeed
    and write the entry's `outputs` (the valid run is real: the bundled demo family for wonderland-generate).
main(argv) is called in-process (stderr captured, SystemExit caught), so an example costs milliseconds.

To add an entry point, append an `Entry` to ENTRIES:
    Entry(prog="lalrm.train", main=lalrm.train.main, style="hydra",
          argv=["trainer.output_dir={out}/run", "data=synthetic", ...],   # a valid command line
          context=("model=tiny",),                     # arguments every run adds after argv (e.g. a preset)
          options=(Opt("stage.batch_size", bad_int(1), edge="1"), Opt("stage.lr", bad_float(0, lo_open=True)),
                   ...),
          tripwires=(("lalrm.train", "train"),),       # reached only by a valid configuration
          outputs=("run/checkpoints",))                # what a valid edge run writes under {out}
Placeholders in argv and values: {in} is a folder of valid inputs (INPUTS below), {out} a fresh folder per run
(checked empty of new files after an invalid run), {demo} the bundled model family.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wonderland.training.config import RENAMED

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "models" / "wonderland-demo"
MAX_SEED = 2**32 - 1

# ---- strategies for invalid values (as the user would type them) -------------------------------------------

# Words that parse as something other than text somewhere (YAML/Hydra null and booleans, float specials).
_NOT_JUNK = {"null", "none", "true", "false", "yes", "no", "on", "off", "y", "n", "nan", "inf", "infinity"}
JUNK = st.from_regex(r"[a-z][a-z_]{0,7}", fullmatch=True).filter(lambda s: s not in _NOT_JUNK)
NON_FINITE = st.sampled_from(["nan", "inf", "-inf", "NaN", "Infinity"])


def _outside(lo, hi, lo_open=False, hi_open=False) -> Callable[[float], bool]:
    def out(x: float) -> bool:
        below = lo is not None and (x <= lo if lo_open else x < lo)
        above = hi is not None and (x >= hi if hi_open else x > hi)
        return below or above
    return out


@dataclass(frozen=True)
class Bad:
    """Invalid values of one option: a strategy, and the values just outside the range, tried in every run."""

    strategy: st.SearchStrategy[str]
    always: tuple[str, ...] = ()


def bad_int(lo: int | None = None, hi: int | None = None) -> Bad:
    """Not an integer, or an integer outside [lo, hi]."""
    parts = [JUNK, NON_FINITE, st.floats(-1e6, 1e6).filter(lambda x: not x.is_integer()).map(repr)]
    if lo is not None:
        parts.append(st.integers(max_value=lo - 1).map(str))
    if hi is not None:
        parts.append(st.integers(min_value=hi + 1).map(str))
    always = tuple(str(b) for b in (None if lo is None else lo - 1, None if hi is None else hi + 1) if b is not None)
    return Bad(st.one_of(parts), always + ("2.5",))


def bad_float(lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False
              ) -> Bad:
    """Not a number, not finite, or outside the range."""
    parts = [JUNK, NON_FINITE]
    out = _outside(lo, hi, lo_open, hi_open)
    always = ["nan", "inf"]
    if lo is not None:
        parts.append(st.floats(max_value=lo, allow_nan=False, allow_infinity=False).filter(out).map(repr))
        always.append(repr(float(lo) if lo_open else math.nextafter(lo, -math.inf)))
    if hi is not None:
        parts.append(st.floats(min_value=hi, allow_nan=False, allow_infinity=False).filter(out).map(repr))
        always.append(repr(float(hi) if hi_open else math.nextafter(hi, math.inf)))
    return Bad(st.one_of(parts), tuple(always))


def bad_choice(*choices: str) -> Bad:
    upper = [c.upper() for c in choices if c.upper() != c]
    return Bad(st.one_of(JUNK.filter(lambda s: s not in choices), *([st.sampled_from(upper)] if upper else [])),
               tuple(upper[:1]))


def missing(suffix: str = "") -> Bad:
    """A path that does not exist (under {out}, which is fresh per run)."""
    return Bad(st.from_regex(r"[a-z]{1,8}", fullmatch=True).map(lambda n: f"{{out}}/absent/{n}{suffix}"),
               (f"{{out}}/absent/x{suffix}",))


def either(*parts: Bad) -> Bad:
    return Bad(st.one_of(*(p.strategy for p in parts)), sum((p.always for p in parts), ()))


def bad_device() -> Bad:
    """Not auto/cpu/cuda/cuda:N/mps (nothing with 'cuda': a CUDA machine takes those)."""
    words = JUNK.filter(lambda s: s not in ("auto", "cpu", "mps") and "cuda" not in s)
    return either(Bad(words), these("cuda:", "cuda:x", "cpu:0", "gpu"))


def these(*values: str) -> Bad:
    """A fixed list of invalid values (combinations: valid alone, invalid here)."""
    return Bad(st.sampled_from(values), values)


UNDER_A_FILE = "{in}/image.png/sub"  # a folder that can never be created


@dataclass(frozen=True)
class Opt:
    name: str  # as the user types it: "--steps", "task.num_seen"; "<scene>" for a positional placeholder in argv
    invalid: Bad  # values that must be refused
    edge: str | None = None  # the smallest allowed value, used in the entry's edge run (None: not in it)
    context: tuple[str, ...] | None = None  # replaces the entry's context for this option (e.g. another preset)
    named: str | None = None  # what the error line must contain (default: the name; for files the value)
    nargs: int = 1  # values that follow the option (space-separated in the drawn text)


@dataclass(frozen=True)
class Entry:
    prog: str
    main: Callable[[list[str]], int | None]
    argv: tuple[str, ...]  # a valid command line (positionals as placeholders named like their Opt)
    options: tuple[Opt, ...]
    style: str = "argparse"  # argparse: --name=value; hydra: key=value
    context: tuple[str, ...] = ()
    positionals: dict[str, str] = field(default_factory=dict)  # placeholder -> valid value
    tripwires: tuple[tuple[str, str], ...] = ()  # (module, attribute) only a valid command may reach
    outputs: tuple[str, ...] = ()  # files a valid edge run writes under {out}
    examples: float = 1.0  # scale of max_examples (Hydra composes take ~0.1 s; argparse ~1 ms)


def _main(module: str) -> Callable[[list[str]], int | None]:
    def call(argv):
        import importlib

        return importlib.import_module(module).main(argv)
    return call


PRESET_DEFAULTS = ("--frames", "2", "--height", "8", "--width", "12")  # tiny presets: edge runs stay fast
_TRAJECTORY_PRESET = (
    Opt("--frames", bad_int(2), edge="2"), Opt("--height", bad_int(1), edge="1"), Opt("--width", bad_int(1), edge="1"),
    Opt("--fov", bad_float(0, 180, True, True), edge="0.001"),
    Opt("--degrees", bad_float(), edge="0"), Opt("--depth", bad_float(), edge="0"),
    Opt("--speed", bad_float(), edge="0"),
    Opt("--radius", bad_float(), context=("spiral",)), Opt("--turns", bad_float(), context=("spiral",)),
    Opt("--forward", bad_float(), context=("spiral",)), Opt("--distance", bad_float(), context=("dolly_in",)),
    Opt("--factor", bad_float(0, lo_open=True), context=("zoom_out",)),
    Opt("--radius", these("0.1", "1", "-2"), context=("orbit",)),  # spiral's, not orbit's
    Opt("--convention", bad_choice("opencv_c2w", "opencv_w2c", "opengl_c2w"), edge="opengl_c2w"),
    Opt("--out", either(missing(".txt"), these(UNDER_A_FILE + "/t.json")), named="--out"),
    Opt("<preset>", bad_choice("orbit", "spiral", "dolly_in", "dolly_out", "pan_left", "pan_right", "tilt_up",
                               "tilt_down", "zoom_out", "static"), context=(), named="{value}"),
)

# The keys every trainer shares (wonderland/training/config.py): the same checks in every Hydra trainer.
_TRAINER = (
    Opt("trainer.max_steps", bad_int(1), edge="1"), Opt("trainer.batch_size", bad_int(1), edge="1"),
    Opt("trainer.grad_accum", bad_int(1), edge="1"), Opt("trainer.grad_clip", bad_float(0), edge="0"),
    Opt("trainer.checkpoint_every", bad_int(1), edge="1"), Opt("trainer.keep_last", bad_int(1), edge="1"),
    Opt("trainer.log_every", bad_int(1), edge="1"), Opt("trainer.seed", bad_int(0), edge="0"),
    Opt("trainer.num_workers", bad_int(0), edge="0"), Opt("trainer.stop_after", bad_int(1)),
    Opt("trainer.mixed_precision", bad_choice("no", "bf16", "fp16"), edge="no"),
    Opt("trainer.device", bad_choice("auto", "cpu", "cuda"), edge="cpu"),
    Opt("trainer.batch_size", these("3"), named="trainer.batch_size", context=("trainer.grad_accum=2",)),
)
_OPTIM = (
    Opt("optim.lr", bad_float(0, lo_open=True)), Opt("optim.min_lr", bad_float(0), edge="0"),
    Opt("optim.weight_decay", bad_float(0), edge="0"), Opt("optim.warmup_steps", bad_int(0), edge="0"),
    Opt("optim.schedule", bad_choice("cosine", "constant", "linear", "wsd"), edge="linear"),
    Opt("optim.betas", these("[0.9]", "[0.9,1.0]", "[nan,0.9]"), named="optim.betas"),
)

# lalrm.stitching: a tiny RGB LRM ({in}/rgb), a decoder stitched onto it at `tokenizer` ({in}/stitched), the
# bundled demo VAE, and the one-scene synthetic set as the clips (9 frames at 32 x 48, stride 4).
_STITCH = "conv3d_k1x2x2_o64_s4x2x2_p0x0x0"  # 2 x 2 latents per token (tests/lalrm/stitching)
_STITCH_COMMON = ("model.path={in}/rgb", "vae.path={demo}/base/vae", "clip.num_frames=9", "clip.height=32",
                  "clip.width=48", "~data.sources.dl3dv",
                  "+data.sources.synth={kind: re10k, root: {in}/eval_data, strides: [4], weight: 1.0}")
_STITCH_KEYS = (  # what search and fit share
    Opt("model.path", either(missing(), these("{in}/eval_data")), named="model.path"),
    Opt("model.adapter", bad_choice("rgb_lrm")), Opt("vae.path", either(missing(), these("{in}/eval_data")),
                                                     named="vae.path"),
    Opt("clip.num_frames", either(bad_int(1), these("10", "48")), named="clip.num_frames"),
    Opt("clip.height", either(bad_int(8), these("30", "36")), named="clip.height"),
    Opt("clip.width", either(bad_int(8), these("50", "44")), named="clip.width"),
    Opt("data.sources.synth.root", missing()), Opt("data.sources.synth.kind", bad_choice("re10k", "dl3dv")),
    Opt("data.sources.synth.weight", bad_float(0), edge="0.5"),
    Opt("data.sources.synth.weight", these("0"), named="data.sources"),  # no source left with a positive weight
    Opt("data.sources.synth.strides", Bad(st.integers(max_value=0).map(lambda i: f"[4,{i}]"), ("[0]", "[]", "[a]")),
        named="data.sources.synth.strides", edge="[1]"),
)


def _stitching(command: str) -> Callable[[list[str]], int | None]:
    def call(argv):
        from lalrm.stitching.__main__ import main

        return main([command, *argv])
    return call


ENTRIES: list[Entry] = [
    Entry("wonderland-generate", _main("wonderland.cli.generate"),
          ("<image>", "--out", "{out}/gen", "--quiet", "--render-trajectory", "{in}/two.json"),
          positionals={"<image>": "{in}/image.png"},
          context=("--preset", "orbit", "--frames", "2"),
          options=(
              Opt("--steps", bad_int(1), edge="1"), Opt("--guidance", bad_float(0), edge="0"),
              Opt("--seed", bad_int(0, MAX_SEED), edge="0"),
              Opt("--device", bad_device(), edge="cpu"),
              Opt("--dtype", bad_choice("auto", "float32", "bfloat16", "float16"), edge="float32"),
              Opt("--offload", bad_choice("none", "model", "sequential"), edge="none"),
              Opt("--scheduler", bad_choice("default", "cogvideox_dpm", "cogvideox_ddim", "dpm++_2m", "unipc", "euler"),
                  edge="default"),
              Opt("--cache", bad_choice("none", "fbc", "pab"), edge="none"),
              Opt("--cache-threshold", bad_float(0), edge="0"),
              Opt("--camera-guidance", bad_float(0), edge="0"),
              Opt("--poses", bad_choice("trajectory", "colmap"), edge="trajectory"),
              Opt("--min-opacity", bad_float(0, 1), edge="0"),
              Opt("--frames", bad_int(2), edge="2"), Opt("--height", bad_int(1), edge="1"),
              Opt("--width", bad_int(1), edge="1"), Opt("--fov", bad_float(0, 180, True, True), edge="0.001"),
              Opt("--degrees", bad_float(), edge="0"), Opt("--depth", bad_float(), edge="0"),
              Opt("--speed", bad_float(), edge="0"),
              Opt("--factor", bad_float(0, lo_open=True), context=("--preset", "zoom_out")),
              Opt("--turns", these("1", "0.5"), context=("--preset", "orbit")),  # not orbit's
              Opt("--preset", bad_choice("orbit", "spiral", "dolly_in", "zoom_out", "static"), context=()),
              Opt("--trajectory", missing(".json"), context=(), named="--trajectory"),
              Opt("--list", missing(".txt"), named="--list"),
              Opt("--render-trajectory", missing(".json"), named="--render-trajectory"),
              Opt("--out", these(UNDER_A_FILE), named="--out"),
              Opt("<image>", missing(".png"), named="{value}"),
          ),
          tripwires=(("wonderland.pipeline.WonderlandPipeline", "from_pretrained"),),
          outputs=("gen/scene.ply", "gen/cameras.json", "gen/report.json")),
    Entry("wonderland-trajectory preset", _main("wonderland.trajectories.cli"),
          ("preset", "--out", "{out}/t.json"), context=("orbit",),  # the preset's name is the context
          options=_TRAJECTORY_PRESET, tripwires=(("wonderland.trajectories.cli", "save_trajectory"),),
          outputs=("t.json",)),
    Entry("wonderland-trajectory interpolate", _main("wonderland.trajectories.cli"),
          ("interpolate", "<trajectory>", "--out", "{out}/dense.json"), positionals={"<trajectory>": "{in}/two.json"},
          options=(Opt("--frames", bad_int(2), edge="2"), Opt("<trajectory>", missing(".json"), named="{value}"),
                   Opt("--out", either(missing(".png"), these(UNDER_A_FILE + "/d.json")), named="--out")),
          tripwires=(("wonderland.trajectories.cli", "interpolate_keyframes"),), outputs=("dense.json",)),
    Entry("wonderland-trajectory show", _main("wonderland.trajectories.cli"),
          ("show", "<trajectory>", "--out", "{out}/plot.png"), positionals={"<trajectory>": "{in}/two.json"},
          options=(Opt("<trajectory>", missing(".txt"), named="{value}"),
                   Opt("--out", either(missing(".json"), these(UNDER_A_FILE + "/p.png")), named="--out")),
          tripwires=(("wonderland.trajectories.cli", "plot_trajectory"),), outputs=("plot.png",)),
    Entry("wonderland-render", _main("wonderland.render.cli"),
          ("<scene>", "--out", "{out}/fly.mp4"), positionals={"<scene>": "{in}/scene.ply"},
          context=("--preset", "orbit", *PRESET_DEFAULTS),
          options=(
              Opt("--frames", bad_int(2), edge="2"), Opt("--height", bad_int(1), edge="1"),
              Opt("--width", bad_int(1), edge="1"), Opt("--fov", bad_float(0, 180, True, True), edge="0.001"),
              Opt("--degrees", bad_float(), edge="0"), Opt("--preset-depth", bad_float(), edge="0"),
              Opt("--speed", bad_float(), edge="0"),
              Opt("--factor", bad_float(0, lo_open=True), context=("--preset", "zoom_out")),
              Opt("--distance", these("1", "2.5"), context=("--preset", "orbit")),  # dolly's
              Opt("--fps", bad_float(1, 240), edge="1"),
              Opt("--background", Bad(st.tuples(bad_float(0, 1).strategy, st.sampled_from(["0", "1"])).map(
                  lambda t: f"{t[1]} {t[0]} {t[1]}"), ("0 nan 0", "0 -1 0", "1 1.5 1")), edge="0 0 0", nargs=3),
              Opt("--backend", bad_choice("auto", "reference", "gsplat"),
                  edge="reference"),
              Opt("--preset", bad_choice("orbit", "spiral", "zoom_out"), context=()),
              Opt("--trajectory", missing(".json"), context=(), named="--trajectory"),
              Opt("--out", either(missing(".gif"), these(UNDER_A_FILE + "/v.mp4")), named="--out"),
              Opt("<scene>", either(missing(".ply"), these("{in}/two.json")), named="{value}"),
          ),
          tripwires=(("wonderland.render.cli", "render_video"), ("wonderland.render.cli", "load_scene")),
          outputs=("fly.mp4",)),
    Entry("wonderland-synth", _main("wonderland.data.synth_cli"),
          ("--out", "{out}/ds", "--workers", "1", "--num-scenes", "1", "--frames", "2", "--height", "4", "--width",
           "6"),
          options=(
              Opt("--num-scenes", bad_int(1), edge="1"), Opt("--frames", bad_int(1), edge="1"),
              Opt("--height", bad_int(1), edge="1"), Opt("--width", bad_int(1), edge="1"),
              Opt("--seed", bad_int(0, MAX_SEED), edge="0"),
              Opt("--format", bad_choice("re10k", "dl3dv"), edge="dl3dv"),
              Opt("--supersample", bad_int(1, 16), edge="1"), Opt("--workers", bad_int(1), edge="1"),
              Opt("--out", these(UNDER_A_FILE), named="--out"),
          ),
          tripwires=(("wonderland.data.synth_cli", "write_synthetic_dataset"),),
          outputs=("ds/wonderland-synth.json",)),
    Entry("wonderland-eval", _main("wonderland.cli.evaluate"), style="hydra", examples=0.25,
          argv=("model_dir={demo}", "dataset.root={in}/eval_data", "output_dir={out}/eval", "device=cpu",
                "num_clips=1", "num_inference_steps=1"),
          context=("task=recon", "dataset=synthetic"),
          options=(
              Opt("num_clips", bad_int(1), edge="1"), Opt("num_frames", bad_int(2)),
              Opt("num_frames", these("48", "50"), named="num_frames"),  # not the model's 49
              Opt("seed", bad_int(0, MAX_SEED), edge="0"),
              Opt("shard", either(Bad(JUNK), these("1/1", "2/1", "0/0", "-1/2", "1")), edge="0/1"),
              Opt("device", bad_device(), edge="cpu"),
              Opt("dtype", bad_choice("auto", "float32", "bfloat16", "float16"), edge="float32"),
              Opt("num_inference_steps", bad_int(1), edge="1"), Opt("guidance_scale", bad_float(0), edge="0"),
              Opt("num_path_plots", bad_int(0), edge="0"),
              Opt("report_only", Bad(JUNK, ("maybe",)), edge="false"),
              Opt("index", missing(".json")), Opt("model_dir", missing()), Opt("output_dir", these(UNDER_A_FILE)),
              Opt("weights.lpips_net", bad_choice("vgg", "alex"), edge="vgg"),
              Opt("weights.lpips_heads", missing(".pth")), Opt("weights.lpips_backbone", missing(".pth")),
              Opt("weights.inception", missing(".pt")), Opt("weights.i3d", missing(".pt")),
              Opt("dataset.root", missing()), Opt("dataset.kind", bad_choice("re10k", "acid", "dl3dv", "colmap")),
              Opt("dataset.strides", Bad(st.integers(max_value=0).map(lambda i: f"[1,{i}]"), ("[0]", "[]", "[1,a]")),
                  edge="[1]"),
              Opt("task.num_seen", bad_int(1), edge="1"), Opt("task.num_unseen", bad_int(0), edge="0"),
              Opt("task.background", bad_float(0, 1), edge="0"),
              Opt("task.num_seen", these("50", "100"), named="task.num_seen"),  # more than a clip's 49
              Opt("task.image_frames", bad_int(1), context=("task=3d", "dataset=synthetic")),
              Opt("task.camera_frames", bad_int(1), context=("task=video", "dataset=synthetic")),
              Opt("task.fvd_frames", bad_int(1), context=("task=video", "dataset=synthetic")),
              Opt("task.fid_frames", bad_int(1), context=("task=video", "dataset=synthetic")),
              Opt("task.unregistered", bad_choice("exclude", "penalize"), context=("task=video", "dataset=synthetic")),
              Opt("task", bad_choice("video", "3d", "recon"), context=("dataset=synthetic",)),
              Opt("dataset", bad_choice("re10k", "dl3dv", "tanks", "synthetic"), context=("task=recon",)),
          ),
          tripwires=(("wonderland.pipeline.WonderlandPipeline", "from_pretrained"),
                     ("wonderland.cli.evaluate", "open_scenes"), ("wonderland.cli.evaluate", "load_metric_nets")),
          outputs=("eval/summary.json", "eval/table.md", "eval/index.json")),
    Entry("lalrm.train", _main("lalrm.train"), style="hydra", examples=0.25,
          argv=("model=tiny", "stage=lowres", "data=synthetic", "trainer=smoke",
                "data.sources.synthetic.root={in}/eval_data", "trainer.output_dir={out}/lalrm", "loss.perceptual=0"),
          options=(*_TRAINER, *_OPTIM,
                   Opt("stage.height", these("30", "0", "-8"), named="stage.height"),
                   Opt("stage.num_seen", bad_int(1), edge="1"), Opt("stage.num_unseen", bad_int(0), edge="0"),
                   Opt("stage.sup_height", bad_int(1)), Opt("num_frames", these("10", "0", "-3")),
                   Opt("loss.mse", bad_float(0)), Opt("loss.perceptual", bad_float(0)),
                   Opt("loss.opacity", bad_float(0), edge="0"), Opt("loss.color_tv", bad_float(0), edge="0"),
                   Opt("loss.background", bad_float(0, 1), edge="0"),
                   Opt("data.generated.ratio", bad_float(0, 1)), Opt("data.latents", bad_choice("cache", "vae")),
                   Opt("data.sources.synthetic.weight", bad_float(0)),
                   Opt("model.width", these("63", "30"), named="model"),
                   Opt("stage", bad_choice("lowres", "highres")), Opt("trainer", bad_choice("default", "smoke")),
                   Opt("stage.lr", these("1e-3"), named="optim.lr"),  # renamed in 0.2: says what replaced it
                   Opt("stage.init_from", either(missing(), these("{in}/eval_data")), named="stage.init_from"),
                   ),
          tripwires=(("lalrm.train", "fit"),),
          outputs=("lalrm/model/config.json", "lalrm/log.jsonl")),
    Entry("camera_video.train", _main("camera_video.train"), style="hydra", examples=0.25,
          argv=("model=tiny", "data=synthetic", "trainer=smoke", "data.root={in}/eval_data", "data.val_scenes=0",
                "data.num_frames=9", "trainer.output_dir={out}/cam"),
          options=(*_TRAINER, *_OPTIM,
                   Opt("stage", bad_choice("camera", "base"), edge="base"),
                   Opt("model.base", bad_choice("5b_i2v", "small", "tiny")),
                   Opt("model.camera.lora_rank", these("-1"), named="model.camera"),
                   Opt("model.init_seed", bad_int(0), edge="0"),
                   Opt("model.pose.hidden", these("40", "0"), named="model.pose"),
                   Opt("model.pose_loss_weight", bad_float(0), edge="0"),
                   Opt("data.num_frames", these("10", "0"), named="data.num_frames"),
                   Opt("data.height", these("30", "-8", "0"), named="data.height"),
                   Opt("data.kind", bad_choice("synthetic", "re10k", "acid", "dl3dv", "mixed", "cache")),
                   Opt("data.val_scenes", bad_int(0), edge="0"),
                   Opt("validation.every", bad_int(0), edge="0"), Opt("validation.inference_steps", bad_int(1)),
                   Opt("trainer.steps", these("2"), named="trainer.max_steps"),  # renamed in 0.2
                   ),
          tripwires=(("camera_video.train", "fit"),),
          outputs=("cam/model/config.json", "cam/log.jsonl")),
    Entry("wonderland.align", _main("wonderland.align.train"), style="hydra", examples=0.25,
          argv=("size=tiny", "model.family={in}/family9", "data.root={in}/clips9", "rollout.min_steps=2",
                "rollout.max_steps=2", "trainer.output_dir={out}/align"),
          options=(*_TRAINER, *_OPTIM,
                   Opt("model.family", missing()),
                   Opt("lora.rank", bad_int(1), edge="1"), Opt("lora.alpha", bad_float(0, lo_open=True)),
                   Opt("lora.ema_decay", these("1.0", "-0.1", "nan", "x")),
                   Opt("rollout.min_steps", bad_int(1), edge="1"), Opt("rollout.grad_steps", bad_int(0)),
                   Opt("rollout.max_steps", these("1"), named="rollout.max_steps"),  # below min_steps (2)
                   Opt("rollout.guidance_scale", bad_float(0)),
                   Opt("reward.consistency", bad_float(0)), Opt("reward.views", bad_int(1), edge="1"),
                   Opt("reward.lpips", bad_float(0)), Opt("reward.lpips_net", bad_choice("vgg", "alex")),
                   Opt("reward.background", bad_float(0, 1)), Opt("loss.gen", bad_float(0)),
                   Opt("data.kind", bad_choice("synthetic", "re10k", "acid", "dl3dv")),
                   Opt("data.val_scenes", bad_int(0)),
                   Opt("data.root", missing(), context=("data.kind=re10k",)),  # synthetic: written there
                   ),
          tripwires=(("wonderland.align.train", "fit"),),
          outputs=("align/model/config.json", "align/log.jsonl")),
    Entry("lalrm.stitching search", _stitching("search"), style="hydra", examples=0.25,
          argv=(*_STITCH_COMMON, f"stitch={_STITCH}", "num_clips=2", "progress=false", "output_dir={out}/search"),
          options=(*_STITCH_KEYS,
                   Opt("stitch", these("conv3d_k5", "conv3d_k1x2x2_o32_s4x2x2_p0x0x0", "conv2d_k1x1_o64"),
                       named="stitch"),
                   Opt("layers", these("[head]", "[]", "[tokenizer,nope]"), named="layers"),
                   Opt("ridge", bad_float(0), edge="0"), Opt("criterion", bad_choice("mse", "relative"), edge="mse"),
                   Opt("num_clips", bad_int(1), edge="1"), Opt("batch_size", bad_int(1), edge="1"),
                   Opt("seed", bad_int(0), edge="0"), Opt("device", bad_device(), edge="cpu"),
                   Opt("progress", Bad(JUNK, ("maybe",)), edge="false"),
                   Opt("output_dir", these(UNDER_A_FILE), named="output_dir")),
          tripwires=(("lalrm.stitching.search", "run_search"),),
          outputs=("search/search.json", "search/mse.png", "search/decoder/config.json")),
    Entry("lalrm.stitching fit", _stitching("fit"), style="hydra", examples=0.25,
          argv=("decoder={in}/stitched", *_STITCH_COMMON, "trainer.output_dir={out}/fit", "trainer.max_steps=2",
                "trainer.batch_size=1", "trainer.mixed_precision=no", "trainer.progress=false", "trainer.num_workers=0",
                "optim.warmup_steps=0", "lora.rank=2", "lora.alpha=2"),
          options=(*_TRAINER, *_OPTIM, *_STITCH_KEYS,
                   Opt("decoder", either(missing(), these("{in}/rgb")), named="decoder"),
                   Opt("lora.rank", bad_int(0), edge="0"), Opt("lora.alpha", bad_float(0, lo_open=True)),
                   Opt("loss.weights.colors", bad_float(0), edge="0"),
                   Opt("loss.weights.quats", these("0"), named="loss.weights",
                       context=("loss.weights.colors=0", "loss.weights.scales=0", "loss.weights.opacities=0",
                                "loss.weights.distance=0")),  # every weight 0: nothing to fit
                   ),
          tripwires=(("lalrm.stitching.fit", "fit_stitched"),),
          outputs=("fit/model/config.json", "fit/log.jsonl")),
    Entry("lalrm.stitching pretrain", _stitching("pretrain"), style="hydra", examples=0.25,
          argv=("model=tiny", "stage=lowres", "data=synthetic", "trainer=smoke",
                "data.sources.synthetic.root={in}/eval_data", "trainer.output_dir={out}/rgb", "loss.perceptual=0",
                "stage.init_from=null"),
          options=(*_TRAINER, *_OPTIM,
                   Opt("stage.height", these("30", "0", "-8"), named="stage.height"),
                   Opt("stage.num_seen", bad_int(1), edge="1"), Opt("stage.num_unseen", bad_int(0), edge="0"),
                   Opt("loss.mse", bad_float(0)), Opt("loss.opacity", bad_float(0), edge="0"),
                   Opt("loss.background", bad_float(0, 1), edge="0"),
                   Opt("data.latents", these("cache", "CACHE", "x"), named="data.latents"),  # frames: vae only
                   Opt("data.generated.root", these("{in}/eval_data"), named="data.generated.root"),
                   Opt("data.sources.synthetic.root", missing()),
                   Opt("stage.init_from", either(missing(), these("{in}/eval_data")), named="stage.init_from"),
                   Opt("model.width", these("63", "30"), named="model"),
                   Opt("stage", bad_choice("lowres", "highres"))),
          tripwires=(("lalrm.stitching.pretrain", "pretrain"),),
          outputs=("rgb/model/config.json", "rgb/log.jsonl")),
]


# ---- running an entry point in-process -----------------------------------------------------------------------

@pytest.fixture(scope="session")
def inputs(tmp_path_factory) -> Path:
    """Valid inputs: an image, a 2-frame trajectory, a Gaussian scene, a one-scene evaluation dataset."""
    import torch
    from PIL import Image

    from wonderland.data.synth import write_synthetic_dataset
    from wonderland.gaussians import Gaussians
    from wonderland.gaussians.ply import save_ply
    from wonderland.trajectories import make_preset, save_trajectory

    d = tmp_path_factory.mktemp("fuzz_inputs")
    Image.new("RGB", (48, 32), (120, 80, 40)).save(d / "image.png")
    save_trajectory(d / "two.json", make_preset("static", 2, 32, 48))
    g = torch.Generator().manual_seed(0)
    save_ply(d / "scene.ply", Gaussians(torch.randn(20, 3, generator=g) + torch.tensor([0, 0, 3.0]),
                                        torch.tensor([[1.0, 0, 0, 0]]).repeat(20, 1), torch.full((20, 3), 0.1),
                                        torch.full((20,), 0.8), torch.rand(20, 3, generator=g)))
    write_synthetic_dataset(d / "eval_data", 1, num_frames=49, height=32, width=48, workers=1)
    # wonderland.align: a 9-frame tiny family and three 9-frame clips (two held out), as tests/align uses
    from wonderland.testing import build_tiny_family, write_synth

    build_tiny_family(d / "family9", num_frames=9)
    write_synth(d / "clips9", 3, num_frames=9)
    # lalrm.stitching: a tiny RGB LRM and a decoder stitched onto it at `tokenizer`
    from lalrm.stitching import RGBLRM, StitchedDecoder
    from wonderland.testing import tiny_lalrm_kwargs

    torch.manual_seed(0)
    rgb = RGBLRM(**tiny_lalrm_kwargs(head_stride=4))
    rgb.save_pretrained(d / "rgb")
    StitchedDecoder.from_model(rgb, "rgb_lrm", "tokenizer", _STITCH).save_pretrained(d / "stitched")
    return d


def _fill(text: str, ins: Path, out: Path) -> str:
    return text.replace("{in}", str(ins)).replace("{out}", str(out)).replace("{demo}", str(DEMO))


def command(entry: Entry, opt: Opt | None, value: str | None, ins: Path, out: Path,
            extra: Sequence[str] = ()) -> list[str]:
    """The entry's valid command line, with `opt` set to `value` (appended last: the last value wins)."""
    argv = list(entry.argv)
    pos = dict(entry.positionals)
    tail = list(entry.context if opt is None or opt.context is None else opt.context) + list(extra)
    if opt is not None and opt.name.startswith("<") and opt.name in argv:
        pos[opt.name] = value
    elif opt is not None and opt.name.startswith("<"):  # a positional the context gives (a preset's name)
        tail.append(value)
    elif opt is not None and entry.style == "hydra":
        tail.append(f"{opt.name}={value}")
    elif opt is not None:
        tail += [f"{opt.name}={value}"] if opt.nargs == 1 else [opt.name, *value.split()]
    argv = [pos.get(a, a) for a in argv] + tail
    return [_fill(a, ins, out) for a in argv]


def run(entry: Entry, argv: list[str], guard: bool) -> tuple[int, str]:
    """main(argv) in-process -> (exit status, stderr). With `guard`, the work functions raise instead of working."""
    err = io.StringIO()
    with contextlib.ExitStack() as stack:
        if guard:
            for target, attr in entry.tripwires:
                stack.enter_context(mock.patch(f"{target}.{attr}", side_effect=AssertionError(
                    f"{entry.prog} {argv}: reached {attr} past the checks")))
        stack.enter_context(contextlib.redirect_stderr(err))
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        try:
            code = entry.main(argv)
        except SystemExit as e:
            code = e.code
    return (0 if code is None else code), err.getvalue()


def files_under(path: Path) -> set[Path]:
    return {p for p in path.rglob("*")} if path.exists() else set()


def assert_refused(entry: Entry, opt: Opt, argv: list[str], code: int, err: str, named: str) -> None:
    lines = err.splitlines()
    assert code == 2, f"{argv}: exit {code}, stderr {err!r}"
    assert len(lines) == 1, f"{argv}: expected one line on stderr, got {lines}"
    assert lines[0].startswith(entry.prog.split()[0]) and ": error: " in lines[0], lines
    assert "Traceback" not in err
    assert named in lines[0], f"{argv}: the error does not name {named!r}: {lines[0]}"


def _cases() -> list:
    return [pytest.param(e, o, id=f"{e.prog}:{o.name}:{i}") for e in ENTRIES for i, o in enumerate(e.options)]


def _check_invalid(entry: Entry, opt: Opt, value: str, ins: Path, tmp: Path) -> None:
    import tempfile

    out = Path(tempfile.mkdtemp(dir=tmp))
    argv = command(entry, opt, value, ins, out)
    before = files_under(out) | files_under(ins)
    code, err = run(entry, argv, guard=True)
    filled = _fill(value, ins, out)
    named = (opt.named or opt.name).replace("{value}", filled)
    assert_refused(entry, opt, argv, code, err, named)
    assert files_under(out) | files_under(ins) == before, f"{argv} wrote files"


EXAMPLES, EXAMPLES_SLOW = 4, 60  # per option and entry point (times `Entry.examples`)
PROFILE = dict(deadline=timedelta(seconds=20), database=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _fuzz(entry: Entry, opt: Opt, ins: Path, tmp: Path, examples: int, derandomize: bool) -> None:
    @settings(max_examples=max(1, round(examples * entry.examples)), derandomize=derandomize, **PROFILE)
    @given(value=opt.invalid.strategy)
    def check(value):
        _check_invalid(entry, opt, value, ins, tmp)

    for value in opt.invalid.always:  # the nearest outsiders, every run; hypothesis adds its own on top
        check = example(value=value)(check)
    if opt.invalid.always:  # once outside hypothesis first: the entry's imports must not count against a deadline
        _check_invalid(entry, opt, opt.invalid.always[0], ins, tmp)
    check()


@pytest.mark.parametrize(("entry", "opt"), _cases())
def test_invalid_values_are_refused(entry, opt, inputs, tmp_path):
    _fuzz(entry, opt, inputs, tmp_path, EXAMPLES, derandomize=True)  # the same values every run: no flakes


@pytest.mark.slow
@pytest.mark.parametrize(("entry", "opt"), _cases())
def test_invalid_values_are_refused_long(entry, opt, inputs, tmp_path):
    _fuzz(entry, opt, inputs, tmp_path, EXAMPLES_SLOW, derandomize=False)


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.prog) for e in ENTRIES])
def test_misspelt_names_are_refused(entry, inputs, tmp_path):
    """Each option's name with its last letter doubled: refused, with the right name suggested."""
    seen = set()
    for opt in entry.options:
        if opt.name.startswith("<") or opt.name in seen or opt.name in ("task", "dataset"):  # groups: values fuzzed
            continue
        if opt.name in RENAMED:  # a key of wonderland 0.1: its error names the new key, not a suggestion
            continue
        seen.add(opt.name)
        typo = Opt(opt.name + opt.name[-1], Bad(st.nothing()), context=opt.context or None)  # () : the entry's
        argv = command(entry, typo, "1", inputs, tmp_path / "o")
        code, err = run(entry, argv, guard=True)
        assert_refused(entry, typo, argv, code, err, typo.name)
        assert f"did you mean {opt.name}?" in err, err


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.prog) for e in ENTRIES])
def test_edge_values_run(entry, inputs, tmp_path):
    """Every option at its smallest allowed value, in one run: it must succeed and write the outputs."""
    argv = command(entry, None, None, inputs, tmp_path)
    for o in entry.options:
        if o.edge is not None:
            value = _fill(o.edge, inputs, tmp_path)
            argv += [f"{o.name}={value}"] if o.nargs == 1 else [o.name, *value.split()]
    code, err = run(entry, argv, guard=False)
    assert code == 0, f"{argv}: exit {code}: {err}"
    for rel in entry.outputs:
        assert (tmp_path / rel).is_file(), f"{argv} did not write {rel}"
