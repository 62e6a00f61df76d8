"""`wonderland-view`: bad files are one-line errors (exit 2); --export writes the scene that was built."""

import collections

import msgspec
import pytest
import zstandard

from wonderland.gaussians import save_ply
from wonderland.trajectories import save_trajectory
from wonderland.viewer.cli import main

from .scenes import red_over_blue, rolled_orbit


@pytest.fixture(scope="module")
def result_dir(tmp_path_factory):
    """A folder laid out as `wonderland-generate` writes it (scene.ply + cameras.json)."""
    d = tmp_path_factory.mktemp("result")
    cams = rolled_orbit(7)
    save_ply(d / "scene.ply", red_over_blue(cams))
    save_trajectory(d / "cameras.json", cams)
    return d


def decode_viser(path) -> list[dict]:
    """The messages of a .viser file: [8-byte size][zstd([8-byte length][msgpack]...)] (viser's StateSerializer)."""
    data = path.read_bytes()
    inner = zstandard.ZstdDecompressor().decompress(data[8:], max_output_size=int.from_bytes(data[:8], "little"))
    n = int.from_bytes(inner[:8], "little")
    return [m for _, m in msgspec.msgpack.decode(inner[8:8 + n])["messages"]]


@pytest.mark.parametrize("make_bad, expected", [
    (lambda d: (d / "bad.ply").write_bytes(b"ply\nformat ascii 1.0\nend_header\n"), "bad.ply: field 'format'"),
    (lambda d: (d / "bad.splat").write_bytes(b"\0" * 40), "bad.splat: size 40 bytes"),
    (lambda d: (d / "bad.obj").write_bytes(b""), "bad.obj: unknown scene format"),
])
def test_bad_scene_files_exit_2_with_one_line(tmp_path, capsys, make_bad, expected):
    make_bad(tmp_path)
    name = next(p for p in tmp_path.iterdir()).name
    assert main([str(tmp_path / name), "--export", str(tmp_path / "out.viser")]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out.viser").exists()


def test_bad_cameras_and_export_name_exit_2(result_dir, tmp_path, capsys):
    (tmp_path / "cams.json").write_text('{"format": "wonderland.trajectory", "version": 1, "frames": []')
    assert main([str(result_dir / "scene.ply"), "--cameras", str(tmp_path / "cams.json"),
                 "--export", str(tmp_path / "out.viser")]) == 2
    assert "cams.json: malformed JSON" in capsys.readouterr().err
    assert main([str(result_dir / "scene.ply"), "--export", str(tmp_path / "out.png")]) == 2
    assert "--export writes .html or .viser" in capsys.readouterr().err
    assert not list(tmp_path.glob("out.*"))


def test_export_holds_the_scene_and_cameras_beside_it(result_dir, tmp_path, capsys):
    assert main([str(result_dir / "scene.ply"), "--export", str(tmp_path / "scene.viser")]) == 0
    assert "playbackPath=scene.viser" in capsys.readouterr().out
    types = collections.Counter(m["type"] for m in decode_viser(tmp_path / "scene.viser"))
    # cameras.json beside the scene was picked up: one frustum per camera, the path, the splats.
    assert types["CameraFrustumMessage"] == 7
    assert types["GaussianSplatsMessage"] == 1 and types["CatmullRomSplineMessage"] == 1
    splats = next(m for m in decode_viser(tmp_path / "scene.viser") if m["type"] == "GaussianSplatsMessage")
    assert splats["name"] == "/scene"

    assert main([str(result_dir / "scene.ply"), "--no-cameras", "--export", str(tmp_path / "bare.viser")]) == 0
    assert "CameraFrustumMessage" not in {m["type"] for m in decode_viser(tmp_path / "bare.viser")}


def test_html_export_is_one_self_contained_page(result_dir, tmp_path, capsys):
    assert main([str(result_dir / "scene.ply"), "--export", str(tmp_path / "scene.html")]) == 0
    assert "open it in a web browser" in capsys.readouterr().out
    html = (tmp_path / "scene.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html>") and "__VISER_EMBED_DATA__" in html
