"""`wonderland-generate` with the sampling speed options: applied, and reported in report.json."""

import json

import pytest
import torch

from camera_video.speed import SamplingOptions
from wonderland.cli.generate import main as generate
from wonderland.pipeline import WonderlandPipeline
from wonderland.trajectories import make_preset


def test_the_product_applies_the_sampling_options(tiny_family):
    options = SamplingOptions(scheduler="dpm++_2m", cache="fbc", cache_threshold=1e9, dynamic_cfg=True, fuse_lora=True)
    pipe = WonderlandPipeline.from_pretrained(tiny_family, sampling=options)
    video = pipe.video_pipe
    video.set_progress_bar_config(disable=True)
    assert type(video.scheduler).__name__ == "DPMSolverMultistepScheduler" and video.transformer.is_cache_enabled
    assert video.transformer.lora_fused
    cams = pipe.fit_trajectory(make_preset("orbit", 49, 32, 48))
    out = video(torch.rand(1, 3, 32, 48), cams, **pipe.prompt_embeds, num_inference_steps=3, guidance_scale=6.0,
                use_dynamic_cfg=pipe.sampling.dynamic_cfg, seed=0, output_type="latent")
    assert out.stats["transformer_calls"] == 3 and out.stats["reused_steps"] == 2


@pytest.mark.slow  # a whole run with decoding and the fly-through: ~30 s on 2 cores
def test_speed_options_are_applied_and_reported(tiny_family, tmp_path):
    from PIL import Image

    Image.new("RGB", (48, 32), (120, 80, 40)).save(tmp_path / "im.png")
    out = tmp_path / "out"
    code = generate([str(tmp_path / "im.png"), "--preset", "orbit", "--model", str(tiny_family), "--out", str(out),
                     "--quiet", "--steps", "3", "--scheduler", "unipc", "--cache", "fbc", "--cache-threshold", "1e9",
                     "--dynamic-cfg", "--fuse-lora"])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["settings"]["sampling"] == {"scheduler": "unipc", "cache": "fbc", "cache_threshold": 1e9,
                                              "compile": False, "dynamic_cfg": True, "fuse_lora": True}
    sampler = report["sampler"]
    assert sampler["scheduler"] == "UniPCMultistepScheduler" and sampler["steps"] == sampler["transformer_calls"] == 3
    assert sampler["reused_steps"] == 2  # threshold 1e9: every step after the first reuses the cached residual
    assert len(set(sampler["guidance_scales"])) > 1  # dynamic: the scale moved with the timestep


@pytest.mark.parametrize("args,expect", [(["--scheduler", "lcm"], "--scheduler lcm: expected one of default"),
                                         (["--cache", "tea"], "--cache tea: expected one of"),
                                         (["--cache", "pab", "--compile"], "pab"),
                                         (["--cache-threshold", "-1"], "--cache-threshold -1: expected")])
def test_bad_speed_options_exit_2_before_loading(args, expect, tiny_family, tmp_path, capsys, monkeypatch):
    from PIL import Image

    monkeypatch.setattr(WonderlandPipeline, "from_pretrained", lambda *a, **k: pytest.fail("a model was loaded"))
    Image.new("RGB", (48, 32)).save(tmp_path / "im.png")
    argv = [str(tmp_path / "im.png"), "--preset", "orbit", "--model", str(tiny_family), "--out", str(tmp_path / "o"),
            *args]
    try:
        code = generate(argv)
    except SystemExit as e:  # argparse's own refusal (a value outside `choices`)
        code = e.code
    assert code == 2 and expect in capsys.readouterr().err
