"""The shared loop on a toy trainer: resume after a kill is bit-exact, a kill while a checkpoint is written
leaves the previous one, non-finite steps are skipped or stop the run, the run log survives a resume."""

import json
import math
import signal
import subprocess
import sys

import pytest
import torch

from wonderland.errors import InputError
from wonderland.testing import ROOT
from wonderland.training import list_checkpoints, read_log, read_state

from .toy import train


def weights(out) -> dict:
    return torch.load(out / "model" / "weights.pt")


_HANG_IN_SAVE = """
import sys, time
from wonderland.training import checkpoint
real = checkpoint.publish_dir
def slow_publish(tmp, final):
    if final.name == "step-00000003":
        print("WRITING", flush=True)
        time.sleep(600)
    real(tmp, final)
checkpoint.publish_dir = slow_publish
from tests.training.toy import main
main(sys.argv[1:])
"""


def test_kill_while_writing_a_checkpoint_leaves_the_previous_one_and_resume_is_bit_exact(tmp_path):
    """SIGKILL while step 3's checkpoint is written (its files are there, not yet published): step 2 stays the
    newest checkpoint, `resume=auto` redoes step 3, and 2 + kill + resume ends with the uninterrupted weights."""
    out = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-c", _HANG_IN_SAVE, str(out), "4"], cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert child.stdout.readline().strip() == "WRITING"
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        child.kill()
    ckpts = out / "checkpoints"
    assert (ckpts / ".tmp-step-00000003").is_dir()
    assert [p.name for p in list_checkpoints(ckpts)] == ["step-00000001", "step-00000002"]
    assert [r["step"] for r in read_log(out)] == [1, 2, 3]  # step 3 was logged before the kill
    resumed = train(str(out), 4)  # trainer.resume=auto
    straight = train(str(tmp_path / "straight"), 4)
    assert resumed.losses == straight.losses[2:] and not (ckpts / ".tmp-step-00000003").exists()
    a, b = weights(tmp_path / "straight"), weights(out)
    assert all(torch.equal(a[k], b[k]) for k in a)
    torch.manual_seed(0)
    # training moved the weights: their equality means something
    assert (a["weight"] - torch.nn.Linear(1, 1).weight).abs().max() > 1e-3
    assert [r["step"] for r in read_log(out)] == [1, 2, 3, 4]  # the killed step is logged once
    assert read_state(ckpts / "step-00000004")["trainer"] == "toy"


def test_non_finite_steps_are_skipped_and_counted_or_stop_the_run(tmp_path, monkeypatch):
    from tests.training import toy

    real = toy.loss
    monkeypatch.setattr(toy, "loss", lambda m, items, g: {"loss": real(m, items, g)["loss"] * (
        math.nan if any(abs(float(x) - 0.3) < 1e-6 for x in items) else 1.0)})
    with pytest.raises(FloatingPointError, match="skip_nonfinite"):
        train(str(tmp_path / "stop"), 6)
    result = train(str(tmp_path / "skip"), 6, skip_nonfinite=True)
    assert result.skipped >= 1 and result.step == 6
    assert all(torch.isfinite(v).all() for v in weights(tmp_path / "skip").values())
    assert read_log(tmp_path / "skip")[-1]["skipped"] == result.skipped


def test_a_checkpoint_of_another_trainer_or_version_is_refused(tmp_path):
    train(str(tmp_path / "a"), 1)
    ckpt = tmp_path / "a" / "checkpoints" / "step-00000001"
    state = json.loads((ckpt / "trainer_state.json").read_text())
    (ckpt / "trainer_state.json").write_text(json.dumps(state | {"version": 1}))
    with pytest.raises(InputError, match="checkpoint version 1"):
        train(str(tmp_path / "a"), 2)
    (tmp_path / "old" / "checkpoints" / "step_00000002").mkdir(parents=True)
    (tmp_path / "old" / "checkpoints" / "step_00000002" / "trainer_state.pt").write_bytes(b"")
    with pytest.raises(InputError, match="cannot resume"):
        train(str(tmp_path / "old"), 2)


def test_keep_last_and_the_final_model_are_published_whole(tmp_path):
    result = train(str(tmp_path / "a"), 5)
    assert [p.name for p in list_checkpoints(tmp_path / "a" / "checkpoints")] == ["step-00000004", "step-00000005"]
    assert result.model_dir == tmp_path / "a" / "model" and sorted(p.name for p in result.model_dir.iterdir()) == [
        "weights.pt"]
    assert not list(tmp_path.glob("a/.tmp-*")) and not list(tmp_path.glob("a/checkpoints/.tmp-*"))
    before = weights(tmp_path / "a")
    again = train(str(tmp_path / "a"), 5)  # a finished run: no step; the model is written again from step 5
    assert again.losses == [] and all(torch.equal(before[k], weights(tmp_path / "a")[k]) for k in before)
