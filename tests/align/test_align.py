"""Alignment: the configs, a fresh alignment-LoRA changes nothing, only the LoRA learns, the DRTune detach,
bit-identical resume, and the family component in the product's pipeline."""

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from camera_video.data import collate
from wonderland.align import align, apply_alignment, attach_alignment, save_component, to_schema
from wonderland.align.lora import ADAPTER, add_align_lora, align_parameters, set_trainable
from wonderland.align.objective import make_loss
from wonderland.align.rollout import draw_schedule, rollout
from wonderland.align.train import Parts, datasets, lora_parameter_count
from wonderland.errors import InputError
from wonderland.geometry import normalize_cameras, plucker_embedding
from wonderland.pipeline import WonderlandPipeline
from wonderland.testing import CONFIGS, compose, killed_after_checkpoint
from wonderland.trajectories import make_preset

from .conftest import FRAMES, align_config, typed


def test_full_config_is_vist3a_and_bad_values_are_one_line_errors(tmp_path):
    full = to_schema(compose(CONFIGS / "align", ["model.family=x", "data.root=y"]))
    assert (full.lora.rank, full.lora.alpha, full.lora.ema_decay, full.lora.train_camera) == (8, 16.0, 0.99, False)
    assert full.lora.targets == ["to_q", "to_k", "to_v", "to_out.0"]
    r, w = full.rollout, full.reward
    assert (r.min_steps, r.max_steps, r.grad_steps, r.last_step) == (10, 50, 2, True)
    assert (w.consistency, w.views, w.lpips, w.quality) == (0.05, 2, 0.25, {"pickscore": 1 / 16, "dfn_clip": 1 / 16})
    assert (full.optim.lr, full.optim.betas, full.trainer.grad_clip, full.loss.gen) == (1e-4, [0.9, 0.95], 1.0, 1.0)
    assert full.trainer.skip_nonfinite
    for bad, key in (("rollout.max_steps=5", "rollout.max_steps"), ("lora.rank=0", "lora.rank"),
                     ("lora.ema_decay=1.0", "lora.ema_decay"), ("reward.views=0", "reward.views")):
        with pytest.raises(InputError, match=key.replace(".", r"\.")):
            to_schema(compose(CONFIGS / "align", ["model.family=x", "data.root=y", bad]))
    with pytest.raises(InputError, match="model.family"):
        to_schema(compose(CONFIGS / "align", ["data.root=y"]))


def test_lpips_without_weights_is_refused_before_anything_is_written(family9, clips9, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(InputError, match="reward.lpips_heads"):
        align(align_config(family9, clips9, out, "reward.lpips=0.25"))
    assert not out.exists()


def test_dry_run_counts_the_5b_lora():
    counts = align(compose(CONFIGS / "align", ["trainer.dry_run=true"]))["parameters"]
    # 42 blocks x 4 projections x rank 8 x (3072 in + 3072 out)
    assert counts["align_lora"] == 42 * 4 * 8 * 2 * 3072 == 8_257_536
    assert lora_parameter_count({"num_layers": 1, "num_attention_heads": 2, "attention_head_dim": 4}, 3, ["q"]) == 48


def _video(pipe):
    traj = make_preset("orbit", num_frames=FRAMES, height=32, width=48)
    image = torch.rand(3, 32, 48, generator=torch.Generator().manual_seed(3))
    return pipe.generate_video(image, traj, seed=5)


def _family_with(family9, tmp_path, perturb: float):
    """A copy of the family with an alignment component whose lora_B is zero (perturb=0) or random."""
    fam = shutil.copytree(family9, tmp_path / "fam")
    transformer = WonderlandPipeline.from_pretrained(fam).video_pipe.transformer
    add_align_lora(transformer, 8, 16.0, ["to_q", "to_k", "to_v", "to_out.0"])
    if perturb:
        g = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for name, p in align_parameters(transformer).items():
                if "lora_B" in name:
                    p.copy_(torch.randn(p.shape, generator=g) * perturb)
    save_component(transformer, tmp_path / "component", 8, 16.0, ["to_q", "to_k", "to_v", "to_out.0"], {})
    attach_alignment(fam, tmp_path / "component")
    return fam


def test_fresh_alignment_lora_leaves_the_output_bit_identical(family9, tmp_path):
    fam = _family_with(family9, tmp_path, perturb=0.0)
    aligned = WonderlandPipeline.from_pretrained(fam)
    assert aligned.alignment == fam / "alignment"
    assert any(f".{ADAPTER}." in n for n, _ in aligned.video_pipe.transformer.named_parameters())
    plain = WonderlandPipeline.from_pretrained(fam, alignment=False)  # wonderland-generate --no-alignment
    assert plain.alignment is None
    assert not any(f".{ADAPTER}." in n for n, _ in plain.video_pipe.transformer.named_parameters())
    a, b = _video(aligned), _video(plain)
    assert torch.equal(a.latents, b.latents) and torch.equal(a.frames, b.frames)


def test_a_trained_alignment_lora_is_applied_and_no_alignment_turns_it_off(family9, tmp_path):
    fam = _family_with(family9, tmp_path, perturb=0.5)
    unaligned = _video(WonderlandPipeline.from_pretrained(family9))
    assert not torch.equal(_video(WonderlandPipeline.from_pretrained(fam)).latents, unaligned.latents)
    assert torch.equal(_video(WonderlandPipeline.from_pretrained(fam, alignment=False)).latents, unaligned.latents)


def test_apply_refuses_weights_of_another_rank(family9, tmp_path):
    transformer = WonderlandPipeline.from_pretrained(family9).video_pipe.transformer
    add_align_lora(transformer, 4, 8.0, ["to_q"])
    save_component(transformer, tmp_path / "c", 8, 16.0, ["to_q"], {})  # claims rank 8, holds rank 4
    other = WonderlandPipeline.from_pretrained(family9).video_pipe.transformer
    with pytest.raises(Exception, match="size mismatch|do not fit"):
        apply_alignment(other, tmp_path / "c")


def test_gradient_reaches_only_the_alignment_lora(family9, clips9, tmp_path):
    cfg = typed(family9, clips9, tmp_path)
    parts = Parts(cfg, torch.device("cpu"))
    lora = align_parameters(parts.transformer)
    assert {n for n, p in parts.transformer.named_parameters() if p.requires_grad} == set(lora)
    batch = collate([datasets(cfg, parts.manifest)[0][0]])
    terms = make_loss(cfg, parts, None, {}, torch.device("cpu"))(parts.transformer, batch,
                                                                  torch.Generator().manual_seed(0))
    assert set(terms) == {"loss", "gen", "consistency", "rollout_steps"}
    terms["loss"].backward()
    grads = {n for n, p in parts.transformer.named_parameters() if p.grad is not None}
    assert grads == set(lora)
    assert all(p.grad is None for p in parts.lalrm.parameters()) and all(p.grad is None for p in parts.vae.parameters())
    # lora_B = 0: lora_A's gradient is exactly zero, lora_B's is not (the reward and L_gen reach it)
    assert all(lora[n].grad.abs().sum() == 0 for n in lora if "lora_A" in n)
    assert all(lora[n].grad.abs().sum() > 0 for n in lora if "lora_B" in n)
    set_trainable(parts.transformer, train_camera=True)  # lora.train_camera: the camera branches join
    trainable = {n for n, p in parts.transformer.named_parameters() if p.requires_grad}
    assert set(lora) < trainable and any(n.startswith("camera.") for n in trainable)
    assert not any(n.startswith("base.") and "lora_" not in n for n in trainable)


def test_draw_schedule():
    for seed in range(20):
        n, steps = draw_schedule(10, 50, 2, True, torch.Generator().manual_seed(seed))
        assert 10 <= n <= 50 and len(set(steps)) == 3 and steps[-1] == n - 1 and all(0 <= s < n for s in steps)
    assert draw_schedule(1, 1, 2, True, torch.Generator().manual_seed(0)) == (1, [0])
    assert draw_schedule(3, 3, 5, False, torch.Generator().manual_seed(0)) == (3, [0, 1, 2])


@pytest.mark.parametrize("detach", [True, False])
def test_detached_step_inputs_cut_the_graph(family9, clips9, tmp_path, detach):
    """Gradient on steps {0, 2} of 3. With detach every transformer input is outside the graph even though the
    latents after step 0 carry gradient (so a later step's input Jacobian is never used); without it (the check
    can fail) the inputs of steps 1 and 2 hang on step 0's graph."""
    cfg = typed(family9, clips9, tmp_path)
    parts = Parts(cfg, torch.device("cpu"))
    cams, _ = normalize_cameras(make_preset("orbit", num_frames=FRAMES, height=32, width=48)[None])
    plucker = plucker_embedding(cams.c2w, cams.K, 32, 48).float()
    image_latents = torch.randn(1, 16, 1, 4, 6, generator=torch.Generator().manual_seed(1))
    text = torch.cat([parts.negative, parts.prompt])
    out = rollout(parts.transformer, parts.scheduler, image_latents, text, plucker, 3, [0, 2], 2.0,
                  torch.Generator().manual_seed(0), detach_inputs=detach, keep_inputs=True)
    assert out.latents.requires_grad
    assert [x.requires_grad for x in out.model_inputs] == ([False] * 3 if detach else [False, True, True])
    b = next(p for n, p in align_parameters(parts.transformer).items() if "lora_B" in n)
    (grad,) = torch.autograd.grad(out.latents.square().sum(), [b])
    assert grad.abs().sum() > 0  # the gradient steps do reach the LoRA through the scheduler updates


def _run(family, clips, out, *extra):
    return align(align_config(family, clips, out, "trainer.max_steps=2", "trainer.checkpoint_every=1",
                              "trainer.keep_last=1", "rollout.min_steps=1", "rollout.max_steps=1", *extra))


def test_killed_run_resumes_bit_identically(family9, clips9, tmp_path):
    """2 steps == 1 step + killed + resume=auto + 1 step: losses, LoRA weights, optimizer and EMA."""
    straight = _run(family9, clips9, tmp_path / "a")
    with killed_after_checkpoint(1):
        _run(family9, clips9, tmp_path / "b")
    resumed = _run(family9, clips9, tmp_path / "b")
    assert resumed.losses == straight.losses[1:] and resumed.step == 2
    for name in ("model.safetensors", "custom_checkpoint_0.pkl"):
        a, b = (p / "checkpoints" / "step-00000002" / name for p in (tmp_path / "a", tmp_path / "b"))
        assert a.read_bytes() == b.read_bytes(), name
    a, b = (load_file(p / "model" / "align_lora.safetensors") for p in (tmp_path / "a", tmp_path / "b"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    saved = load_file(tmp_path / "a" / "checkpoints" / "step-00000002" / "model.safetensors")
    assert all(".align." in k for k in saved)  # only what trains is checkpointed
    # the component holds the EMA, not the last weights (decay (1+n)/(10+n) after n updates)
    last = {k.replace(".align", ""): v for k, v in saved.items() if "lora_B" in k}
    ema = {k: v for k, v in a.items() if "lora_B" in k}
    key = next(iter(ema))
    assert not torch.equal(ema[key], last["base." + key]) and ema[key].abs().sum() > 0


def test_report_writes_json_table_and_frames(tmp_path):
    import json

    import imageio.v3 as iio

    from wonderland.align.report import write_report

    before = {"consistency_psnr": 7.5, "gaussians_psnr": 6.4, "video_psnr": 9.8, "denoising_loss": 0.78}
    after = {**before, "consistency_psnr": 8.25}
    clip = [tuple(torch.full((9, 3, 32, 48), v) for v in (0.0, 0.25, 0.5))]
    write_report(tmp_path, before, after, clip, [tuple(x + 0.5 for x in clip[0])],
                 {"family": "f", "component": "c", "clips": 1, "steps": 4})
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["change"]["consistency_psnr"] == pytest.approx(0.75) and data["change"]["video_psnr"] == 0
    assert "| consistency_psnr | 7.500 | 8.250 | +0.750 |" in (tmp_path / "report.md").read_text()
    png = iio.imread(tmp_path / "frames.png")
    assert png.shape == (5 * 32, 5 * 48, 3)  # 5 rows, frames 0, 2, 4, 6, 8
    assert [int(png[32 * r + 5, 5, 0]) for r in range(5)] == [0, 64, 128, 191, 255]  # truth, before, after rows


def test_demo_recipe_config_trains_on_the_familys_training_scenes_only():
    from wonderland.demo.common import TEST_SEED

    cfg = to_schema(compose(CONFIGS / "align", ["size=demo", "model.family=models/wonderland-demo"]))
    d = cfg.data
    assert (d.kind, d.seed, d.num_scenes, d.val_scenes, d.strides) == ("synthetic", 0, 64, 0, [1])
    assert d.seed != TEST_SEED and cfg.trainer.max_steps == 30
    assert (cfg.reward.consistency, cfg.reward.lpips, cfg.loss.gen, cfg.optim.lr) == (1.0, 0.0, 1.0, 1e-3)
    assert (cfg.rollout.min_steps, cfg.rollout.max_steps, cfg.rollout.grad_steps) == (2, 4, 1)
    component = Path(__file__).resolve().parents[2] / "models" / "wonderland-demo" / "alignment"
    committed = json.loads((component / "config.json").read_text())
    assert committed["steps"] == cfg.trainer.max_steps and committed["rank"] == cfg.lora.rank
