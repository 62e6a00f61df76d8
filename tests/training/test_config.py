"""The shared trainer/optimizer keys: every bad value is one error naming its key; the schedules."""

import math

import pytest
import torch

from wonderland.errors import InputError
from wonderland.training import OptimConfig, TrainerConfig, build_lr_scheduler, check_optim, check_trainer


@pytest.mark.parametrize("key,value", [("max_steps", 0), ("max_steps", -1), ("batch_size", 0), ("grad_accum", 0),
                                       ("checkpoint_every", 0), ("keep_last", 0), ("log_every", 0), ("seed", -1),
                                       ("num_workers", -1), ("stop_after", 0), ("grad_clip", math.nan),
                                       ("grad_clip", -1.0), ("mixed_precision", "fp8"), ("output_dir", " "),
                                       ("max_steps", 2.5), ("max_steps", True), ("device", "tpu")])
def test_bad_trainer_values_name_their_key(key, value):
    with pytest.raises(InputError, match=rf"trainer\.{key}"):
        check_trainer(TrainerConfig(**{key: value}))


def test_the_device_is_checked_before_accelerate_and_cpu_wins_over_a_present_gpu(tmp_path, monkeypatch):
    from wonderland.training import make_accelerator

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InputError, match=r"trainer\.device=cuda: expected auto or cpu: torch sees no CUDA device"):
        make_accelerator(TrainerConfig(output_dir=str(tmp_path), device="cuda"), log_with=None)
    # trainer.device=cpu keeps a run on the CPU even where torch reports a GPU (the demo recipe's --device cpu)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    acc = make_accelerator(TrainerConfig(output_dir=str(tmp_path), device="cpu", mixed_precision="no"), log_with=None)
    assert acc.device.type == "cpu"


def test_the_global_batch_must_split_over_processes_and_accumulation():
    check_trainer(TrainerConfig(batch_size=24, grad_accum=3), processes=8)
    with pytest.raises(InputError, match=r"trainer\.batch_size=24: expected a multiple of processes x "):
        check_trainer(TrainerConfig(batch_size=24, grad_accum=5), processes=1)


@pytest.mark.parametrize("key,value", [("lr", 0.0), ("lr", math.nan), ("lr", math.inf), ("min_lr", 1.0),
                                       ("weight_decay", -0.1), ("warmup_steps", -1), ("betas", [0.9]),
                                       ("betas", [0.9, 1.0]), ("schedule", "exp"), ("decay_steps", 0)])
def test_bad_optim_values_name_their_key(key, value):
    with pytest.raises(InputError, match=rf"optim\.{key}"):
        check_optim(OptimConfig(**{key: value}))


def lrs(o: OptimConfig, steps: int) -> list[float]:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=o.lr)
    sched = build_lr_scheduler(opt, o, steps)
    out = []
    for _ in range(steps):
        out.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return out + [sched.get_last_lr()[0]]


def test_schedules_reach_their_known_values():
    cos = lrs(OptimConfig(lr=1.0, min_lr=0.1, warmup_steps=10, schedule="cosine"), 110)
    assert cos[0] == 0.0 and cos[5] == pytest.approx(0.5) and cos[10] == pytest.approx(1.0)
    assert cos[60] == pytest.approx(0.55) and cos[110] == pytest.approx(0.1)  # halfway: the floor + half the span
    wsd = lrs(OptimConfig(lr=1.0, min_lr=0.1, schedule="wsd"), 100)  # constant for half, then linear to the floor
    assert wsd[0] == wsd[49] == 1.0 and wsd[75] == pytest.approx(0.55) and wsd[100] == pytest.approx(0.1)
    lin = lrs(OptimConfig(lr=1.0, min_lr=0.0, schedule="linear"), 10)
    assert lin[5] == pytest.approx(0.5) and lin[10] == pytest.approx(0.0)
    assert set(lrs(OptimConfig(lr=0.3, warmup_steps=0, schedule="constant"), 5)) == {0.3}
