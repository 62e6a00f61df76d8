"""wonderland.hydra_entry on a small config tree: every kind of configuration error is one line naming the
key, exit status 2, and `run` is never called; --verbose / HYDRA_FULL_ERROR=1 give the full trace."""

from dataclasses import dataclass, field

import pytest
from omegaconf import MISSING, OmegaConf

from wonderland.checks import check_float, check_int
from wonderland.errors import InputError
from wonderland.hydra_entry import hydra_main, load_config


@dataclass
class Stage:
    name: str = "low"
    lr: float = 1e-3
    batch_size: int = 4


@dataclass
class Trainer:
    max_steps: int = 10
    checkpoint_every: int = 5


@dataclass
class Config:
    stage: Stage = field(default_factory=Stage)
    trainer: Trainer = field(default_factory=Trainer)
    data_root: str = MISSING
    seed: int = 0
    sizes: list[int] = field(default_factory=lambda: [1, 2])


def build(cfg) -> Config:
    c = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Config), cfg))
    check_int(c.stage.batch_size, "stage.batch_size", min=1)
    check_float(c.stage.lr, "stage.lr", min=0, min_open=True)
    check_int(c.trainer.max_steps, "trainer.max_steps", min=1)
    if c.trainer.checkpoint_every > c.trainer.max_steps:
        raise ValueError("trainer.checkpoint_every must be <= trainer.max_steps")
    return c


@pytest.fixture
def config_dir(tmp_path):
    (tmp_path / "stage").mkdir()
    (tmp_path / "config.yaml").write_text(
        "defaults:\n  - _self_\n  - stage: low\ntrainer:\n  max_steps: 10\n  checkpoint_every: 5\n"
        "data_root: ???\nseed: 0\nsizes: [1, 2]\n")
    (tmp_path / "stage" / "low.yaml").write_text("name: low\nlr: 0.001\nbatch_size: 4\n")
    (tmp_path / "stage" / "high.yaml").write_text("name: high\nlr: 0.0001\nbatch_size: 2\n")
    return tmp_path


def call(config_dir, *argv):
    ran = []
    code = hydra_main(list(argv), prog="demo-train", config_dir=config_dir, build=build, run=ran.append)
    return code, ran


@pytest.mark.parametrize(("argv", "line"), [
    (["trainer.max_step=3"], "trainer.max_step=3: unknown key (did you mean trainer.max_steps?)"),
    (["seeds=1"], "seeds=1: unknown key (did you mean seed?)"),
    (["+trainer.foo=1"], "+trainer.foo=1: unknown key"),
    (["+trainer.max_stepss=1"], "+trainer.max_stepss=1: unknown key (did you mean trainer.max_steps?)"),
    (["stage=hihg"], "stage=hihg: unknown option of config group 'stage'; expected one of high, low "
                     "(did you mean high?)"),
    (["seed=abc"], "seed=abc: expected an integer"),
    (["sizes=[1,a]"], "sizes[1]=a: expected an integer"),
    ([], "data_root: missing value; give data_root=..."),
    (["seed=="], "seed==: not a valid override (key=value, +key=value, ~key, key=[a,b]; quote values with spaces)"),
    (["stage.batch_size=0"], "stage.batch_size=0: expected an integer >= 1"),
    (["stage.lr=nan"], "stage.lr=nan: expected a finite number > 0"),
    (["trainer.max_steps=-1"], "trainer.max_steps=-1: expected an integer >= 1"),
    (["trainer.checkpoint_every=50"], "trainer.checkpoint_every must be <= trainer.max_steps"),
    (["--verbos"], "--verbos: unknown option; expected key=value overrides, --verbose, --help, -h, --cfg "
                   "(did you mean --verbose?)"),
])
def test_configuration_errors_are_one_line_exit_2(config_dir, argv, line, capsys):
    argv = argv if argv == [] or argv[0].startswith("-") else ["data_root=/data", *argv]
    code, ran = call(config_dir, *argv)
    assert (code, ran) == (2, [])
    assert capsys.readouterr().err == f"demo-train: error: {line}\n"


def test_valid_overrides_reach_run_typed(config_dir):
    code, ran = call(config_dir, "data_root=/data", "stage=high", "trainer.max_steps=1", "trainer.checkpoint_every=1")
    assert code == 0 and len(ran) == 1
    c = ran[0]
    assert isinstance(c, Config) and (c.stage.name, c.stage.batch_size, c.trainer.max_steps) == ("high", 2, 1)


def test_verbose_and_hydra_full_error_reraise(config_dir, monkeypatch):
    with pytest.raises(InputError, match="unknown key"):
        call(config_dir, "data_root=/d", "seeds=1", "--verbose")
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    with pytest.raises(InputError, match="stage.batch_size=0"):
        call(config_dir, "data_root=/d", "stage.batch_size=0")


def test_input_error_from_run_is_one_line(config_dir, capsys):
    def run(c):
        raise InputError(c.data_root, None, "dataset root does not exist")

    assert hydra_main(["data_root=/nope"], prog="p", config_dir=config_dir, build=build, run=run) == 2
    assert capsys.readouterr().err == "p: error: /nope: dataset root does not exist\n"


def test_load_config_and_help(config_dir, capsys):
    assert load_config(config_dir, ["data_root=/x", "seed=3"], build).seed == 3
    assert call(config_dir, "--help") == (0, [])
    out = capsys.readouterr().out
    assert "stage: high, low" in out and "max_steps: 10" in out
    assert call(config_dir, "data_root=/x", "--cfg") == (0, [])
    assert "data_root: /x" in capsys.readouterr().out
