"""INRIA 3DGS `.ply` files: the layout SuperSplat, gsplat's viewer, nerfstudio and antimatter15 read.

Vertex properties, float32 little-endian, in this order (SPEC.md section 0):
x y z nx ny nz f_dc_0..2 [f_rest_0..3k-1] opacity scale_0..2 rot_0..3, where opacity is stored as a
logit, scale as a log, f_dc = (rgb - 0.5) / C0 and f_rest is channel-major (all k red coefficients,
then green, then blue) as the INRIA code flattens features_rest (g, 3, k). Conversions run in float64
so a save/load round trip is exact to float32 rounding. Opacities are clamped to
[1e-7, 1 - 1e-7] and scales to >= 1e-30 on save so that logit/log stay finite.

Loading accepts any property order, extra properties, float/double/int types and either endianness.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from wonderland.errors import InputError
from wonderland.io import atomic_path

from .container import Gaussians

SH_C0 = 0.28209479177387814
_OPACITY_EPS = 1e-7
_PLY_TYPES = {"char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2",
              "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
              "float": "f4", "float32": "f4", "double": "f8", "float64": "f8"}
_REQUIRED = ("x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2",
             "rot_0", "rot_1", "rot_2", "rot_3")


def save_ply(path: str | os.PathLike, g: Gaussians) -> None:
    """Write unbatched Gaussians (g,) as a binary little-endian INRIA 3DGS PLY (atomically)."""
    if g.batch_shape:
        raise ValueError(f"save_ply: expected unbatched Gaussians, got batch shape {tuple(g.batch_shape)}")
    f64 = g.detach().to(device="cpu", dtype=torch.float64)
    n = f64.num
    k = 0 if f64.sh_rest is None else f64.sh_rest.shape[-2]
    opacity = f64.opacities.clamp(_OPACITY_EPS, 1 - _OPACITY_EPS)
    columns = [f64.means, torch.zeros(n, 3, dtype=torch.float64), (f64.colors - 0.5) / SH_C0]
    if k:
        columns.append(f64.sh_rest.transpose(1, 2).reshape(n, 3 * k))  # channel-major, as INRIA
    columns += [torch.logit(opacity)[:, None], f64.scales.clamp_min(1e-30).log(), f64.quats]
    data = torch.cat(columns, 1).numpy().astype("<f4")
    names = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2",
             *(f"f_rest_{i}" for i in range(3 * k)), "opacity", "scale_0", "scale_1", "scale_2",
             "rot_0", "rot_1", "rot_2", "rot_3"]
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {n}",
              *(f"property float {name}" for name in names), "end_header"]
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(("\n".join(header) + "\n").encode("ascii"))
        f.write(np.ascontiguousarray(data).tobytes())


def _read_header(f, path) -> tuple[str, list[tuple[str, int, list[tuple[str, str]]]]]:
    """-> (format, [(element name, count, [(property, numpy type)])]); raises InputError."""
    if f.readline().strip() != b"ply":
        raise InputError(path, None, "not a PLY file (first line is not 'ply')")
    fmt, elements = None, []
    while True:
        line = f.readline()
        if not line:
            raise InputError(path, None, "PLY header has no 'end_header' line")
        words = line.decode("ascii", "replace").split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "end_header":
            break
        if words[0] == "format" and len(words) == 3:
            fmt = words[1]
        elif words[0] == "element" and len(words) == 3 and words[2].isdigit():
            elements.append((words[1], int(words[2]), []))
        elif words[0] == "property" and elements and len(words) == 3 and words[1] in _PLY_TYPES:
            elements[-1][2].append((words[2], _PLY_TYPES[words[1]]))
        elif words[0] == "property" and elements and words[1] == "list":
            raise InputError(path, f"{elements[-1][0]}.{words[-1]}", "list properties are not supported")
        else:
            raise InputError(path, None, f"malformed PLY header line: {line.decode('ascii', 'replace').strip()!r}")
    if fmt not in ("binary_little_endian", "binary_big_endian"):
        raise InputError(path, "format", f"expected binary_little_endian or binary_big_endian, got {fmt!r}")
    return fmt, elements


def load_ply(path: str | os.PathLike) -> Gaussians:
    """Read a 3DGS PLY into float32 Gaussians (g,) on CPU, with sh_rest when f_rest_* are present."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "file not found")
    with open(path, "rb") as f:
        fmt, elements = _read_header(f, path)
        body = f.read()
    endian = "<" if fmt == "binary_little_endian" else ">"
    arrays, offset = {}, 0
    for name, count, props in elements:
        dtype = np.dtype([(p, endian + t) for p, t in props])
        need = count * dtype.itemsize
        if len(body) - offset < need:
            raise InputError(path, name, f"truncated: {count} elements need {need} bytes, "
                                         f"{len(body) - offset} left in the file")
        arrays[name] = np.frombuffer(body, dtype, count, offset)
        offset += need
    if "vertex" not in arrays:
        raise InputError(path, "vertex", "no 'vertex' element (compressed PLYs are not supported)")
    v = arrays["vertex"]
    missing = [p for p in _REQUIRED if p not in v.dtype.names]
    if missing:
        raise InputError(path, missing[0], f"missing vertex properties {missing}")
    rest = sorted((p for p in v.dtype.names if p.startswith("f_rest_")), key=lambda p: int(p[7:]))
    if len(rest) % 3 or rest != [f"f_rest_{i}" for i in range(len(rest))]:
        raise InputError(path, "f_rest_*", f"expected f_rest_0..f_rest_(3k-1), got {len(rest)} properties")

    def column(*names) -> torch.Tensor:  # (g, len(names)) float64, finite
        out = np.stack([v[p].astype(np.float64) for p in names], 1)
        bad = ~np.isfinite(out)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise InputError(path, names[col], f"non-finite value {out[row, col]} at vertex {row} "
                                               f"({int(bad.sum())} non-finite values in total)")
        return torch.from_numpy(out)

    n, k = len(v), len(rest) // 3
    sh_rest = column(*rest).reshape(n, 3, k).transpose(1, 2).float().contiguous() if k else None
    return Gaussians(
        means=column("x", "y", "z").float(),
        quats=column("rot_0", "rot_1", "rot_2", "rot_3").float(),
        scales=column("scale_0", "scale_1", "scale_2").exp().float(),
        opacities=torch.sigmoid(column("opacity")[:, 0]).float(),
        colors=(column("f_dc_0", "f_dc_1", "f_dc_2") * SH_C0 + 0.5).float(),
        sh_rest=sh_rest,
    )
