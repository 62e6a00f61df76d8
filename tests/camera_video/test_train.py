"""Training: every config composes, 2-step runs, bit-identical resume, dry run, the objective."""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from camera_video.config import to_schema
from camera_video.loss import i2v_loss
from camera_video.models import SCHEDULER_5B_I2V
from camera_video.train import build_model, train
from wonderland.testing import killed_after_checkpoint

from .conftest import CONFIG_DIR, SMOKE_FRAMES, compose, perturb_zero_layers, plucker_of, tiny_stock, wrap, write_synth

GROUPS = {g: sorted(p.stem for p in (Path(CONFIG_DIR) / g).glob("*.yaml")) for g in ("model", "data", "trainer")}


def test_every_config_composes_into_the_schema():
    assert GROUPS["data"] == ["acid", "dl3dv", "mixed", "re10k", "synthetic"]
    assert GROUPS["model"] == ["demo", "full", "tiny"]
    for group, names in GROUPS.items():
        for name in names:
            cfg = to_schema(compose(f"{group}={name}"))
            assert cfg.data.num_frames == 49
    full = to_schema(compose())
    assert (full.model.camera["num_control_blocks"], full.model.camera["lora_rank"]) == (21, 256)
    assert (full.optim.lr, full.optim.betas, full.optim.weight_decay) == (2e-5, [0.9, 0.95], 1e-4)
    assert (full.trainer.batch_size, full.trainer.grad_accum, full.trainer.max_steps) == (24, 3, 40_000)


@pytest.fixture(scope="module")
def dl3dv_root(tmp_path_factory):
    return write_synth(tmp_path_factory.mktemp("dl3dv"), 2, fmt="dl3dv", seed=1)


@pytest.mark.parametrize("data", GROUPS["data"])
def test_every_data_config_trains_two_steps_on_the_tiny_model(data, synth_root, dl3dv_root, tmp_path):
    root = dl3dv_root if data == "dl3dv" else synth_root
    roots = [f"data.root={root}"]
    if data == "mixed":  # the three source kinds, on synthetic scenes written in their layouts
        roots = [f"data.sources=[{{kind: re10k, root: '{synth_root}'}}, {{kind: acid, root: '{synth_root}'}},"
                 f"{{kind: dl3dv, root: '{dl3dv_root}'}}]"]
    cfg = compose("model=tiny", f"data={data}", "trainer=smoke", "data.height=32", "data.width=48", "data.strides=[1]",
                  f"data.num_frames={SMOKE_FRAMES}",
                  "data.val_scenes=1", f"trainer.output_dir={tmp_path}", *roots)
    out = train(cfg)
    assert out.step == 2 and len(out.losses) == 2 and all(torch.isfinite(torch.tensor(out.losses)))
    ckpt = tmp_path / "checkpoints" / "step-00000002"
    assert (ckpt / "model.safetensors").is_file() and (ckpt / "trainer_state.json").is_file()
    assert (out.model_dir / "camera_lora.safetensors").is_file()


def _cache_run(cache, out, *extra, stage="camera"):
    return train(compose("model=tiny", "data=synthetic", "trainer=smoke", "data.kind=cache", f"data.root={cache}",
                         f"data.num_frames={SMOKE_FRAMES}", f"stage={stage}", "data.val_scenes=1",
                         f"trainer.output_dir={out}", "trainer.max_steps=4", "trainer.batch_size=2",
                         "trainer.checkpoint_every=2", "trainer.keep_last=1", *extra))


@pytest.mark.parametrize("stage", ["camera", "base"])
def test_killed_run_resumes_bit_identically(stage, latent_cache, tmp_path):
    """4 steps == 2 steps + killed + `trainer.resume=auto` + 2 steps, through the shared loop; for the camera stage
    (frozen base: the checkpoint holds only the trainable weights) and the base stage (every weight trains)."""
    straight = _cache_run(latent_cache, tmp_path / "a", stage=stage)
    with killed_after_checkpoint(2):
        _cache_run(latent_cache, tmp_path / "b", stage=stage)
    resumed = _cache_run(latent_cache, tmp_path / "b", stage=stage)
    assert resumed.losses == straight.losses[2:]
    a = load_file(tmp_path / "a" / "checkpoints" / "step-00000004" / "model.safetensors")
    b = load_file(tmp_path / "b" / "checkpoints" / "step-00000004" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    trainable = {n for n, p in build_model(to_schema(compose("model=tiny", f"stage={stage}"))).named_parameters()
                 if p.requires_grad}
    assert set(a) == trainable  # the checkpoint holds what trains, and only that
    assert [p.name for p in (tmp_path / "b" / "checkpoints").iterdir()] == ["step-00000004"]  # keep_last=1
    assert (tmp_path / "b" / "model" / ("camera_lora.safetensors" if stage == "camera" else "config.json")).is_file()


def test_base_stage_output_is_the_pretrained_base_of_the_camera_stage(latent_cache, tmp_path):
    base = _cache_run(latent_cache, tmp_path / "base", "trainer.max_steps=1", stage="base")
    camera = _cache_run(latent_cache, tmp_path / "cam", "trainer.max_steps=1", f"model.pretrained={base.model_dir}")
    from diffusers import CogVideoXTransformer3DModel

    trained = CogVideoXTransformer3DModel.from_pretrained(base.model_dir)
    model = build_model(to_schema(compose("model=tiny", f"model.pretrained={base.model_dir}")))
    assert torch.equal(model.base.proj_out.weight, trained.proj_out.weight)
    assert not torch.equal(trained.proj_out.weight, build_model(to_schema(compose("model=tiny"))).base.proj_out.weight)
    assert camera.model_dir is not None


def test_dry_run_reports_the_full_model_without_allocating(capsys):
    out = train(compose("trainer.dry_run=true"))
    counts, memory = out["parameters"], out["memory_bytes"]
    assert counts["base"] == 5_570_479_680 and counts["control_blocks"] == 2_776_150_272
    assert memory["optimizer"] == 8 * counts["trainable"] and memory["gradients"] == 4 * counts["trainable"]
    assert memory["weights"] == 2 * (counts["total"] - counts["trainable"]) + 4 * counts["trainable"]
    assert "5,570,479,680" in capsys.readouterr().out
    base = train(compose("stage=base", "trainer.dry_run=true"))["parameters"]
    assert base["trainable"] == base["total"] == 5_570_479_680


def test_loss_is_the_v_prediction_mse(inputs):
    """Independent path: the recipe's weighted x0 loss equals MSE(v_pred, v_target) with v from get_velocity."""
    from diffusers import CogVideoXDPMScheduler

    from camera_video.loss import i2v_model_input

    sched = CogVideoXDPMScheduler(**SCHEDULER_5B_I2V)
    model = wrap(tiny_stock())
    perturb_zero_layers(model)
    g = torch.Generator().manual_seed(0)
    batch = {"latents": torch.randn(2, 16, 13, 4, 6, generator=g),
             "image_latents": torch.randn(2, 16, 1, 4, 6, generator=g),
             "plucker": plucker_of("orbit").expand(2, -1, -1, -1, -1), "prompt_embeds": inputs["encoder_hidden_states"]}
    t = torch.tensor([50, 700])
    with torch.no_grad():
        loss = i2v_loss(model, sched, batch, torch.Generator().manual_seed(5), timesteps=t)
        g = torch.Generator().manual_seed(5)
        x0 = batch["latents"].permute(0, 2, 1, 3, 4)
        noise = torch.randn(x0.shape, generator=g)
        noisy = sched.add_noise(x0, noise, t)
        v = model(i2v_model_input(noisy, batch["image_latents"].permute(0, 2, 1, 3, 4)), batch["prompt_embeds"], t,
                  plucker=batch["plucker"], image_rotary_emb=inputs["image_rotary_emb"]).sample
        expected = (v - sched.get_velocity(x0, noise, t)).square().mean()
    torch.testing.assert_close(loss, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["ddp", "deepspeed_zero2", "deepspeed_zero3", "fsdp"])
def test_accelerate_config_files_load_in_accelerate(name):
    from accelerate.commands.config.config_args import ClusterConfig

    cfg = ClusterConfig.from_yaml_file(str(Path(CONFIG_DIR).parents[0] / "accelerate" / f"{name}.yaml"))
    assert cfg.mixed_precision == "bf16" and cfg.num_processes == 8
    assert cfg.distributed_type.value == {"ddp": "MULTI_GPU", "fsdp": "FSDP"}.get(name, "DEEPSPEED")
    if name.startswith("deepspeed"):  # its accumulation must match trainer.grad_accum of the full recipe
        assert cfg.deepspeed_config["gradient_accumulation_steps"] == to_schema(compose()).trainer.grad_accum
        # the global batch of the recipe is one clip per GPU per micro-step
        assert to_schema(compose()).trainer.batch_size == cfg.num_processes * cfg.deepspeed_config[
            "gradient_accumulation_steps"]
