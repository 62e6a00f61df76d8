"""wonderland.checks and wonderland.cli_args: every refusal is one line naming the option or key, the value
and what was expected; the edges of each range are accepted exactly where the range says."""

import math

import pytest

from wonderland.checks import (
    check_choice,
    check_file,
    check_float,
    check_int,
    check_output_dir,
    check_output_file,
    finite_float,
    int_range,
    positive_int,
    range_text,
)
from wonderland.cli_args import ArgumentParser
from wonderland.errors import InputError


def test_range_text_names_open_and_closed_bounds():
    assert range_text(1) == ">= 1" and range_text(0, lo_open=True) == "> 0"
    assert range_text(0, 180, True, True) == "in (0, 180)" and range_text(0, 1) == "in [0, 1]"
    assert range_text(hi=5) == "<= 5" and range_text() == ""


@pytest.mark.parametrize("value", [1, 7, 3.0])
def test_check_int_accepts_integers_in_range(value):
    assert check_int(value, "steps", min=1, max=7) == int(value) and type(check_int(value, "s", min=1)) is int


@pytest.mark.parametrize("value", [0, -3, 8, 2.5, True, "3", None, math.nan, math.inf])
def test_check_int_refuses(value):
    with pytest.raises(InputError) as e:
        check_int(value, "trainer.max_steps", min=1, max=7)
    assert str(e.value).startswith("trainer.max_steps=") and str(e.value).endswith("expected an integer in [1, 7]")


def test_messages_name_option_value_and_expectation():
    with pytest.raises(InputError, match=r"^--steps -3: expected an integer >= 1$"):
        check_int(-3, "--steps", min=1)
    with pytest.raises(InputError, match=r"^guidance_scale=nan: expected a finite number >= 0$"):
        check_float(math.nan, "guidance_scale", min=0)
    with pytest.raises(InputError, match=r"^traj.json: field 'h': expected an integer >= 1, got 0$"):
        check_int(0, "h", min=1, source="traj.json")
    with pytest.raises(InputError, match=r"^--prompt '': expected one of a, b$"):
        check_choice("", "--prompt", ["a", "b"])


def test_check_float_bounds_open_and_closed():
    assert check_float(0, "x", min=0) == 0.0
    with pytest.raises(InputError):
        check_float(0.0, "x", min=0, min_open=True)
    assert check_float(1e-300, "x", min=0, min_open=True) == 1e-300
    assert check_float(180, "x", max=180) == 180.0
    with pytest.raises(InputError, match=r"in \(0, 180\)"):
        check_float(180, "x", min=0, max=180, min_open=True, max_open=True)
    for bad in (math.inf, -math.inf, math.nan, "1.0", None, False):
        with pytest.raises(InputError, match="finite number"):
            check_float(bad, "x")


def test_paths(tmp_path):
    (tmp_path / "f.txt").write_text("x")
    assert check_file(tmp_path / "f.txt", "--list") == tmp_path / "f.txt"
    with pytest.raises(InputError, match="not found"):
        check_file(tmp_path / "missing.txt", "--list")
    with pytest.raises(InputError, match=r"expected a \.mp4 file"):
        check_file(tmp_path / "f.txt", "--out", suffixes=(".mp4",))
    nested = tmp_path / "a" / "b" / "c"
    assert check_output_dir(nested, "--out") == nested and not (tmp_path / "a").exists()  # nothing created
    with pytest.raises(InputError, match="f.txt is a file"):  # a folder below a file can never be made
        check_output_dir(tmp_path / "f.txt" / "sub", "--out")
    with pytest.raises(InputError, match="this is a file"):
        check_output_dir(tmp_path / "f.txt", "--out")
    with pytest.raises(InputError, match="this is a folder"):
        check_output_file(tmp_path, "--out")
    assert check_output_file(tmp_path / "new" / "v.mp4", "--out", suffixes=(".mp4",)).name == "v.mp4"


def parser() -> ArgumentParser:
    p = ArgumentParser(prog="wonderland-x")
    p.add_argument("--steps", type=positive_int)
    p.add_argument("--frames", type=int_range(2, 100))
    p.add_argument("--guidance", type=finite_float(0))
    p.add_argument("--fov", type=finite_float(0, 180, min_open=True, max_open=True))
    p.add_argument("--seed", type=int)
    p.add_argument("--dtype", choices=("auto", "float32"))
    p.add_argument("--degrees", type=float)
    return p


@pytest.mark.parametrize(("argv", "line"), [
    (["--steps", "0"], "--steps 0: expected an integer >= 1"),
    (["--steps", "-3"], "--steps -3: expected an integer >= 1"),
    (["--steps", "2.5"], "--steps 2.5: expected an integer >= 1"),
    (["--frames", "1"], "--frames 1: expected an integer in [2, 100]"),
    (["--guidance", "nan"], "--guidance nan: expected a finite number >= 0"),
    (["--guidance=-1"], "--guidance -1: expected a finite number >= 0"),
    (["--fov", "inf"], "--fov inf: expected a finite number in (0, 180)"),
    (["--fov", "0"], "--fov 0: expected a finite number in (0, 180)"),
    (["--seed", "x y"], "--seed 'x y': expected an integer"),
    (["--degrees", ""], "--degrees '': expected a number"),
    (["--dtype", "fp8"], "--dtype fp8: expected one of auto, float32"),
    (["--steps"], "--steps: expected one argument"),
    (["--stepz", "3"], "unrecognized arguments: --stepz 3 (did you mean --steps?)"),
])
def test_parser_error_is_one_line_exit_2(argv, line, capsys):
    with pytest.raises(SystemExit) as e:
        parser().parse_args(argv)
    assert e.value.code == 2
    assert capsys.readouterr().err == f"wonderland-x: error: {line}\n"


def test_parser_accepts_the_edges_and_help_still_prints_usage(capsys):
    a = parser().parse_args(["--steps", "1", "--frames", "100", "--guidance", "0", "--fov", "179.9"])
    assert (a.steps, a.frames, a.guidance, a.fov) == (1, 100, 0.0, 179.9)
    with pytest.raises(SystemExit) as e:
        parser().parse_args(["--help"])
    assert e.value.code == 0 and "usage: wonderland-x" in capsys.readouterr().out


def test_input_error_through_parser_error_and_subparsers(capsys):
    p = parser()
    sub = p.add_subparsers(dest="cmd").add_parser("preset")
    sub.add_argument("--frames", type=int_range(2))
    with pytest.raises(SystemExit):
        p.parse_args(["preset", "--frames", "1"])
    assert capsys.readouterr().err == "wonderland-x preset: error: --frames 1: expected an integer >= 2\n"
    with pytest.raises(SystemExit):
        p.error(str(InputError(None, "--degrees", "spiral takes radius, depth", value=90.0)))
    assert capsys.readouterr().err == "wonderland-x: error: --degrees 90.0: spiral takes radius, depth\n"
