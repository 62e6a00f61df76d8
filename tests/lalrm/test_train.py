"""Training: every config composes; every stage trains 2 steps (highres from a lowres model); a killed and
resumed run equals an uninterrupted one; the dry run sizes the paper model; bad values are refused."""

import itertools
import json
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from lalrm.config import build_config
from lalrm.train import train
from wonderland.errors import InputError
from wonderland.testing import killed_after_checkpoint

from .conftest import CONFIG_DIR, compose, smoke_overrides

GROUPS = {g: sorted(p.stem for p in (Path(CONFIG_DIR) / g).glob("*.yaml")) for g in ("model", "stage", "data",
                                                                                      "trainer")}


def weights(model_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(model_dir / "diffusion_pytorch_model.safetensors")


def test_every_config_composes():
    assert GROUPS["stage"] == ["highres", "lowres"] and len(GROUPS["data"]) == 6
    # every stage x data pair, cycling through the model and trainer files
    for i, (stage, data) in enumerate(itertools.product(GROUPS["stage"], GROUPS["data"])):
        model, trainer = GROUPS["model"][i % 2], GROUPS["trainer"][(i // 2) % 2]
        cfg = build_config(compose([f"model={model}", f"stage={stage}", f"data={data}", f"trainer={trainer}"]))
        assert cfg.model["head_stride"] == {"lowres": 16, "highres": 8}[cfg.stage.name]
        if trainer == "default":  # the stage sets the paper's length, batch and peak lr
            assert (cfg.trainer.max_steps, cfg.trainer.batch_size) == ({"lowres": 200_000, "highres": 100_000}[
                stage], 24)
            assert cfg.optim.lr == {"lowres": 4e-4, "highres": 1e-4}[stage]
        else:
            assert (cfg.trainer.max_steps, cfg.trainer.batch_size) == (2, 1)  # trainer=smoke shortens any stage
    # the paper's stage 2: generated clips over the captured mix (the data file wins over the stage's null root)
    gen = build_config(compose(["stage=highres", "data=mixed_generated"])).data
    assert (gen.generated.root, gen.generated.ratio, sorted(gen.sources)) == (
        "data/generated/re10k_flux", 0.2, ["acid", "dl3dv", "re10k"])


@pytest.mark.parametrize("override", ["loss.mse=-0.1", "loss.opacity=-1", "loss.depth=nan", "loss.color_tv=-0.1",
                                      "trainer.batch_size=0", "trainer.checkpoint_every=0", "trainer.max_steps=-1",
                                      "optim.lr=nan", "stage.height=30", "num_frames=10", "data.generated.ratio=1.5",
                                      "model.near=30"])
def test_bad_values_are_refused_when_the_config_is_built(override):
    """Each value is refused with a message that names its key (the model's own checks name `model`)."""
    key = override.split("=")[0]
    with pytest.raises(InputError, match="model" if key.startswith("model.") else re.escape(key)):
        build_config(compose(["model=tiny", "stage=lowres", override]))


@pytest.mark.parametrize("old,new", [("stage.lr=1e-3", "optim.lr"), ("stage.batch_size=2", "trainer.batch_size"),
                                     ("output_dir=x", "trainer.output_dir")])
def test_keys_of_wonderland_0_1_name_their_new_key(old, new):
    from omegaconf import OmegaConf, open_dict

    cfg = compose(["model=tiny"])
    key, value = old.split("=")
    with open_dict(cfg):
        OmegaConf.update(cfg, key, value, force_add=True)
    with pytest.raises(InputError, match=f"{key}.*renamed to {new}"):
        build_config(cfg)


def test_stages_train_two_steps_and_highres_starts_from_lowres(synth_root, tmp_path):
    low = train(compose(smoke_overrides("lowres", synth_root, tmp_path / "low")))
    assert json.loads((low.model_dir / "config.json").read_text())["head_stride"] == 16
    assert json.loads((tmp_path / "low" / "config.json").read_text()) == {
        "version": 2, "stage": "lowres", "steps": 2, "processes_in_sync": 1}
    ckpts = sorted(p.name for p in (tmp_path / "low" / "checkpoints").iterdir())
    assert ckpts == ["step-00000001", "step-00000002"]
    log = [json.loads(line) for line in (tmp_path / "low" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2] and {"loss", "psnr", "lr", "mse", "perceptual"} <= set(log[0])
    assert any((tmp_path / "low" / "tensorboard").iterdir())

    high = train(compose(smoke_overrides("highres", synth_root, tmp_path / "high")
                         + [f"stage.init_from={low.model_dir}"]))
    a, b = weights(low.model_dir), weights(high.model_dir)
    assert b["head.deconv.weight"].shape[-1] == 8 and a["head.deconv.weight"].shape[-1] == 16
    # 2 warm-up steps at lr <= 2e-7 move weights by ~1e-7: the highres backbone is the lowres one
    # (a fresh initialisation would differ by ~0.02).
    for k in a:
        if k != "head.deconv.weight":
            assert (a[k] - b[k]).abs().max() < 1e-5, k


def test_killed_and_resumed_run_equals_uninterrupted(synth_root, tmp_path):
    # warm-up of 1 step: the weights move by ~lr per step, so a wrong resume shows
    base = smoke_overrides("highres", synth_root, tmp_path / "a") + [
        "trainer.max_steps=4", "stage.init_from=null", "optim.warmup_steps=1", "optim.lr=1e-3",
        "trainer.batch_size=2", "loss.perceptual=0", "model.head_stride=4"]
    full = train(compose(base))
    resumed_base = [o.replace(str(tmp_path / "a"), str(tmp_path / "b")) for o in base]
    with killed_after_checkpoint(2):
        train(compose(resumed_base))
    assert not (tmp_path / "b" / "model").exists()
    resumed = train(compose(resumed_base))  # trainer.resume=auto
    assert resumed.losses == full.losses[2:]
    assert sorted(p.name for p in (tmp_path / "b" / "checkpoints").iterdir()) == ["step-00000003", "step-00000004"]
    wa, wb = weights(full.model_dir), weights(resumed.model_dir)
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    steps = [json.loads(x)["step"] for x in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]


def test_dry_run_sizes_the_paper_model(capsys):
    for stage, tokens in (("lowres", "4,485"), ("highres", "17,550")):
        assert train(compose([f"stage={stage}", "trainer.dry_run=true"])) is None
        out = capsys.readouterr().out
        assert f"tokens per scene      {tokens}" in out
        assert "Gaussians per scene   4,233,600" in out and "parameters            3" in out
    assert "backbone forward      40.9 TFLOP" in out  # highres: the ~41 TFLOP per scene of the issue
