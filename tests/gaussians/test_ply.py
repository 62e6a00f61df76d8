"""INRIA 3DGS PLY: exact float32 round trip, the header viewers expect, files from other tools, bad files."""

import numpy as np
import pytest
import torch

from wonderland.errors import InputError
from wonderland.gaussians import SH_C0, Gaussians, load_ply, save_ply


def scene(g: int = 50, k: int | None = 15) -> Gaussians:
    gen = torch.Generator().manual_seed(0)
    r = lambda *s: torch.rand(g, *s, generator=gen)  # noqa: E731
    return Gaussians(torch.randn(g, 3, generator=gen) * 5, torch.randn(g, 4, generator=gen), r(3) * 0.5 + 1e-3,
                     r() * 0.98 + 0.01, r(3), None if k is None else torch.randn(g, k, 3, generator=gen) * 0.1)


def write_raw_ply(path, columns: dict[str, np.ndarray], fmt: str = "binary_little_endian", dtype: str = "f4",
                  ply_type: str = "float", extra_header: str = "") -> None:
    endian = "<" if fmt == "binary_little_endian" else ">"
    n = len(next(iter(columns.values())))
    header = ["ply", f"format {fmt} 1.0", "comment written by another tool", f"element vertex {n}"]
    header += [f"property {ply_type} {name}" for name in columns] + ([extra_header] if extra_header else [])
    data = np.empty(n, [(name, endian + dtype) for name in columns])
    for name, values in columns.items():
        data[name] = values
    path.write_bytes(("\n".join([*header, "end_header"]) + "\n").encode() + data.tobytes())


def test_round_trip_is_exact_to_float32(tmp_path):
    g = scene()
    save_ply(tmp_path / "s.ply", g)
    back = load_ply(tmp_path / "s.ply")
    for name in ("means", "quats", "scales", "opacities", "colors", "sh_rest"):
        a, b = getattr(g, name), getattr(back, name)
        assert b.dtype == torch.float32 and a.shape == b.shape
        # Only the float32 rounding of the stored value (f_dc, logit, log) remains: conversions run in float64.
        # A log-scale of -7 rounds to 7 ulp of the scale, hence rtol 8 eps.
        eps = torch.finfo(torch.float32).eps
        torch.testing.assert_close(b, a, rtol=8 * eps, atol=eps, msg=name)


def test_header_and_values_follow_the_inria_layout(tmp_path):
    g = scene(3, k=None)
    save_ply(tmp_path / "s.ply", g)
    raw = (tmp_path / "s.ply").read_bytes()
    header, body = raw.split(b"end_header\n")
    props = [line.split()[-1] for line in header.decode().splitlines() if line.startswith("property float")]
    assert header.startswith(b"ply\nformat binary_little_endian 1.0\nelement vertex 3\n")
    assert props == ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
                     "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    v = np.frombuffer(body, "<f4").reshape(3, 17)
    np.testing.assert_allclose(v[:, 6:9], ((g.colors.double() - 0.5) / SH_C0).numpy(), rtol=1e-6)
    np.testing.assert_allclose(v[:, 9], torch.logit(g.opacities.double()).numpy(), rtol=1e-6)
    np.testing.assert_allclose(v[:, 10:13], g.scales.double().log().numpy(), rtol=1e-6)
    np.testing.assert_allclose(v[:, 13:17], g.quats.numpy())  # w, x, y, z as stored


def test_ply_from_another_tool_with_sh_and_shuffled_properties(tmp_path):
    n, k = 4, 15
    rng = np.random.default_rng(0)
    cols = {f"f_rest_{i}": rng.normal(size=n) for i in range(3 * k)}
    cols |= {"rot_3": rng.normal(size=n), "opacity": rng.normal(size=n), "x": rng.normal(size=n), "nz": np.zeros(n),
             "f_dc_2": rng.normal(size=n), "scale_1": rng.normal(size=n), "rot_0": rng.normal(size=n),
             "y": rng.normal(size=n), "f_dc_0": rng.normal(size=n), "scale_0": rng.normal(size=n),
             "rot_2": rng.normal(size=n), "z": rng.normal(size=n), "f_dc_1": rng.normal(size=n),
             "scale_2": rng.normal(size=n), "rot_1": rng.normal(size=n), "confidence": rng.normal(size=n)}
    order = rng.permutation(list(cols))
    write_raw_ply(tmp_path / "other.ply", {name: cols[name] for name in order}, fmt="binary_big_endian", dtype="f8",
                  ply_type="double")
    g = load_ply(tmp_path / "other.ply")
    c = {name: torch.from_numpy(v).float() for name, v in cols.items()}
    torch.testing.assert_close(g.means, torch.stack([c["x"], c["y"], c["z"]], -1))
    torch.testing.assert_close(g.quats, torch.stack([c[f"rot_{i}"] for i in range(4)], -1))
    torch.testing.assert_close(g.opacities, torch.sigmoid(c["opacity"]))
    torch.testing.assert_close(g.scales, torch.stack([c[f"scale_{i}"] for i in range(3)], -1).exp())
    torch.testing.assert_close(g.colors, torch.stack([c[f"f_dc_{i}"] for i in range(3)], -1) * SH_C0 + 0.5)
    # f_rest is channel-major: coefficient j of channel ch is f_rest_{ch * k + j}.
    assert g.sh_rest.shape == (n, k, 3)
    torch.testing.assert_close(g.sh_rest[:, 7, 2], c[f"f_rest_{2 * k + 7}"])
    torch.testing.assert_close(g.sh_rest[:, 0, 1], c[f"f_rest_{k}"])


def test_bad_files_raise_input_errors_naming_file_and_problem(tmp_path):
    path = tmp_path / "s.ply"
    save_ply(path, scene(5))
    raw = path.read_bytes()

    (tmp_path / "trunc.ply").write_bytes(raw[:-10])
    with pytest.raises(InputError, match=r"trunc\.ply.*truncated"):
        load_ply(tmp_path / "trunc.ply")

    (tmp_path / "header.ply").write_bytes(b"plx\n" + raw[4:])
    with pytest.raises(InputError, match=r"header\.ply.*not a PLY"):
        load_ply(tmp_path / "header.ply")

    (tmp_path / "ascii.ply").write_bytes(raw.replace(b"binary_little_endian", b"ascii", 1))
    with pytest.raises(InputError, match=r"ascii\.ply.*format"):
        load_ply(tmp_path / "ascii.ply")

    cols = {name: np.ones(2) for name in ("x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0",
                                          "scale_1", "scale_2", "rot_0", "rot_1", "rot_2")}  # no rot_3
    write_raw_ply(tmp_path / "missing.ply", cols)
    with pytest.raises(InputError, match=r"missing\.ply: field 'rot_3'"):
        load_ply(tmp_path / "missing.ply")

    cols["rot_3"] = np.array([0.0, np.nan])
    write_raw_ply(tmp_path / "nan.ply", cols)
    with pytest.raises(InputError, match=r"nan\.ply: field 'rot_3'.*non-finite.*vertex 1"):
        load_ply(tmp_path / "nan.ply")

    with pytest.raises(InputError, match="not found"):
        load_ply(tmp_path / "absent.ply")
