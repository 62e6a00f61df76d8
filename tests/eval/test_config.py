"""wonderland-eval's config: composed, merged onto the schema and checked before anything is read or written
(the one-line form of every error is the fuzz harness's job, tests/test_entry_point_fuzz.py)."""

import pytest

from wonderland.cli.evaluate import CONFIG_DIR, main
from wonderland.errors import InputError
from wonderland.eval.config import EvalConfig, build_eval_config
from wonderland.hydra_entry import compose, load_config


def base(tmp_path):
    (tmp_path / "model").mkdir(exist_ok=True)
    (tmp_path / "data").mkdir(exist_ok=True)
    return [f"model_dir={tmp_path / 'model'}", f"dataset.root={tmp_path / 'data'}", f"output_dir={tmp_path / 'out'}"]


def test_defaults_build_typed_and_the_output_dir_interpolates(tmp_path):
    cfg = build_eval_config(compose(CONFIG_DIR, [*base(tmp_path)[:2], "task=recon", "dataset=dl3dv"]))
    assert isinstance(cfg, EvalConfig) and cfg.output_dir == "outputs/eval/recon/dl3dv"
    assert (cfg.task.num_seen, cfg.dataset.options, cfg.dataset.num_clips["recon"]) == (24, {"images": "images_4"}, 100)


@pytest.mark.parametrize(("override", "message"), [
    ("num_clips=0", "num_clips=0: expected an integer >= 1"),
    ("task=3d task.background=nan", "task.background=nan: expected a finite number in [0, 1]"),
    ("dataset.strides=[1,0]", "dataset.strides[1]=0: expected an integer >= 1"),
    ("+dataset.options.frame_root=/x", "dataset.options.frame_root=/x: unknown option of the re10k reader "
                                       "(it takes: frames_root)"),
    ("shard=2/2", "shard=2/2: expected 'i/n' with 0 <= i < n"),
    ("device=gpu", "device=gpu: expected auto, cpu, cuda, cuda:N or mps"),
    ("weights.i3d=/no/such.pt", "weights.i3d=/no/such.pt: expected an existing file (not found)"),
    ("seed=-1", "seed=-1: expected an integer in [0, 4294967295]"),
])
def test_bad_values_name_the_key(tmp_path, override, message):
    with pytest.raises(InputError) as e:
        load_config(CONFIG_DIR, [*base(tmp_path), *override.split()], build_eval_config)
    assert str(e.value).startswith(message)


def test_main_refuses_before_writing_and_report_only_needs_no_model(tmp_path, capsys):
    out = tmp_path / "out"
    assert main([*base(tmp_path), "num_inference_steps=0"]) == 2
    assert capsys.readouterr().err == "wonderland-eval: error: num_inference_steps=0: expected an integer >= 1\n"
    assert not out.exists()
    cfg = build_eval_config(compose(CONFIG_DIR, ["report_only=true", f"output_dir={out}"]))
    assert cfg.model_dir is None  # a report reads only the output folder
