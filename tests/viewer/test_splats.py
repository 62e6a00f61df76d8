"""Scene files -> the arrays viser draws, against an independent computation from the raw file values."""

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from wonderland.errors import InputError
from wonderland.gaussians import Gaussians, load_scene, save_splat
from wonderland.viewer import splat_arrays

C0 = 0.28209479177387814  # the SH degree-0 basis constant, 1 / (2 sqrt(pi)), written out independently


def write_raw_ply(path, raw: dict[str, np.ndarray]) -> None:
    """A binary little-endian INRIA PLY from raw stored values, properties in a shuffled order."""
    names = list(raw)
    data = np.empty(len(raw["x"]), [(n, "<f4") for n in names])
    for n in names:
        data[n] = raw[n]
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {len(data)}",
              *(f"property float {n}" for n in names), "end_header"]
    path.write_bytes(("\n".join(header) + "\n").encode() + data.tobytes())


def test_ply_to_viewer_arrays_matches_an_independent_computation(tmp_path):
    rng = np.random.default_rng(0)
    n = 257
    raw = {"rot_2": rng.normal(size=n), "x": rng.normal(size=n), "scale_0": rng.uniform(-5, 0, n),
           "f_dc_0": rng.normal(scale=2.5, size=n),  # wide enough that some colours leave [0, 1] (clipped)
           "y": rng.normal(size=n), "z": rng.normal(size=n), "f_dc_1": rng.normal(size=n),
           "f_dc_2": rng.normal(size=n), "opacity": rng.normal(scale=3, size=n), "scale_1": rng.uniform(-5, 0, n),
           "scale_2": rng.uniform(-5, 0, n), "rot_0": rng.normal(size=n), "rot_1": rng.normal(size=n),
           "rot_3": rng.normal(size=n), "nx": np.zeros(n), "ny": np.zeros(n), "nz": np.zeros(n)}
    raw = {k: v.astype(np.float32).astype(np.float64) for k, v in raw.items()}
    write_raw_ply(tmp_path / "scene.ply", raw)

    a = splat_arrays(load_scene(tmp_path / "scene.ply"))

    R = Rotation.from_quat(np.stack([raw[f"rot_{i}"] for i in range(4)], 1), scalar_first=True).as_matrix()
    var = np.exp(2 * np.stack([raw[f"scale_{i}"] for i in range(3)], 1))
    cov = np.einsum("gij,gj,gkj->gik", R, var, R)
    rgb = np.clip(0.5 + C0 * np.stack([raw[f"f_dc_{i}"] for i in range(3)], 1), 0, 1)
    opacity = 1 / (1 + np.exp(-raw["opacity"]))
    assert a.centers.shape == (n, 3) and a.covariances.shape == (n, 3, 3)
    assert a.rgbs.shape == (n, 3) and a.opacities.shape == (n, 1)  # viser asserts these shapes
    np.testing.assert_allclose(a.centers, np.stack([raw["x"], raw["y"], raw["z"]], 1), rtol=0, atol=1e-6)
    np.testing.assert_allclose(a.covariances, cov, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(a.rgbs, rgb, rtol=0, atol=1e-6)
    np.testing.assert_allclose(a.opacities[:, 0], opacity, rtol=0, atol=1e-6)
    assert ((a.rgbs == 0) | (a.rgbs == 1)).any()  # the clipping was exercised


def test_splat_file_to_viewer_arrays(tmp_path):
    """The .splat path: covariance from the stored linear scales and the byte-quantised rotation."""
    rng = np.random.default_rng(1)
    n = 64
    q = torch.tensor(rng.normal(size=(n, 4)), dtype=torch.float32)
    g = Gaussians(torch.randn(n, 3), q, torch.rand(n, 3) * 0.1 + 0.01, torch.rand(n), torch.rand(n, 3))
    save_splat(tmp_path / "scene.splat", g)
    raw = np.fromfile(tmp_path / "scene.splat", np.dtype([("p", "<f4", 3), ("s", "<f4", 3), ("c", "u1", 4),
                                                          ("r", "u1", 4)]))

    a = splat_arrays(load_scene(tmp_path / "scene.splat"))

    R = Rotation.from_quat((raw["r"].astype(np.float64) - 128) / 128, scalar_first=True).as_matrix()
    cov = np.einsum("gij,gj,gkj->gik", R, raw["s"].astype(np.float64) ** 2, R)
    np.testing.assert_allclose(a.covariances, cov, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(a.rgbs, raw["c"][:, :3] / 255, atol=1e-6)
    np.testing.assert_allclose(a.opacities[:, 0], raw["c"][:, 3] / 255, atol=1e-6)


def test_bad_scene_files_are_input_errors(tmp_path):
    (tmp_path / "scene.ply").write_bytes(b"ply\nformat ascii 1.0\nend_header\n")
    with pytest.raises(InputError, match="binary_little_endian"):
        load_scene(tmp_path / "scene.ply")
    (tmp_path / "scene.splat").write_bytes(b"\0" * 33)
    with pytest.raises(InputError, match="multiple of 32"):
        load_scene(tmp_path / "scene.splat")
