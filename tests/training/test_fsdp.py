"""FSDP2 on two CPU processes (gloo, `accelerate launch --config_file configs/accelerate/fsdp.yaml`) trains the
tiny LaLRM and the tiny camera model to the weights that one process reaches with the same global batch.

The two runs see the same micro-batches (samples and diffusion noise are keyed by the micro-batch's index in
the global batch, `wonderland.training.loop`): one process accumulates them (`trainer.grad_accum=2`), two
processes each take one and FSDP reduce-scatters the gradients. Weights move ~1e-3 per step at lr 1e-3, so
a missing reduction or a wrong shard shows; float-level differences of the reduced mean stay ~3e-5.
"""

import os
import subprocess
import sys

import pytest
from safetensors.torch import load_file

from wonderland.testing import ROOT, write_synth

FSDP = ROOT / "configs" / "accelerate" / "fsdp.yaml"
COMMON = ["trainer=smoke", "trainer.batch_size=2", "trainer.max_steps=2", "optim.warmup_steps=1", "optim.lr=1e-3"]
TRAINERS = {
    # module, the block class FSDP shards on, the trainer's own overrides (tiny model, synthetic clips)
    "lalrm": ("lalrm.train", "Block", ["stage=highres", "model=tiny", "data=synthetic", "stage.init_from=null",
                                        "model.head_stride=4", "loss.perceptual=0",
                                        "data.sources.synthetic.root={root}"]),
    "camera_video": ("camera_video.train", "CogVideoXBlock",
                     ["model=tiny", "data=synthetic", "data.root={root}", "data.num_frames=9", "data.height=32",
                      "data.width=48", "data.strides=[1]", "data.val_scenes=1"]),
}


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("fsdp_scenes")
    return {"lalrm": write_synth(root / "lalrm", 4, num_frames=49, seed=0),
            "camera_video": write_synth(root / "camera_video", 2, num_frames=9, seed=0)}


def _run(args: list[str], out) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, *args, f"trainer.output_dir={out}"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.mark.parametrize("trainer", sorted(TRAINERS))
def test_fsdp_on_two_processes_trains_the_weights_of_one(trainer, scenes, tmp_path):
    module, block, own = TRAINERS[trainer]
    overrides = [o.format(root=scenes[trainer]) for o in own] + COMMON
    _run(["-m", "accelerate.commands.launch", "--config_file", str(FSDP), "--num_processes", "2",
          "--mixed_precision", "no", "--dynamo_backend", "no", "--fsdp_transformer_layer_cls_to_wrap", block,
          "-m", module, *overrides], tmp_path / "two")
    _run(["-m", module, *overrides, "trainer.grad_accum=2"], tmp_path / "one")

    two, one = tmp_path / "two", tmp_path / "one"
    # Both processes wrote their RNG state into the checkpoint: the run really was two processes.
    assert {p.name for p in (two / "checkpoints" / "step-00000002").glob("random_states_*")} == {
        "random_states_0.pkl", "random_states_1.pkl"}
    start = load_file(two / "checkpoints" / "step-00000001" / "model.safetensors")
    files = sorted(p.name for p in (one / "model").glob("*.safetensors"))
    assert files == sorted(p.name for p in (two / "model").glob("*.safetensors"))
    moved = 0.0
    for name in files:  # the gathered full state dict, as the one-process run saves it
        a, b = load_file(two / "model" / name), load_file(one / "model" / name)
        assert set(a) == set(b), name
        for k in b:
            assert a[k].shape == b[k].shape and (a[k] - b[k]).abs().max().item() < 1e-4, (name, k)
    for k, v in load_file(two / "checkpoints" / "step-00000002" / "model.safetensors").items():
        moved = max(moved, (v - start[k]).abs().max().item())
    assert moved > 1e-4  # training moved the weights between the checkpoints: the agreement is not trivial
