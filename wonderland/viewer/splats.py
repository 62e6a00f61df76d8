"""Gaussians -> the arrays viser's `add_gaussian_splats` takes, as a pure function.

The project's readers (`wonderland.gaussians.load_scene`: `load_ply` / `load_splat`) already undo the file
encodings (opacity = sigmoid(stored logit), scale = exp(stored log), colour = 0.5 + C0 * f_dc, the DC
term of the spherical harmonics), so what is left is the one thing viser wants that the container
does not hold: the 3D covariance R S S^T R^T of each Gaussian. Higher SH degrees are not shown
(viser renders one colour per Gaussian).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..gaussians import Gaussians


@dataclass
class SplatArrays:
    centers: np.ndarray  # (g, 3) float32 world positions
    covariances: np.ndarray  # (g, 3, 3) float32, R diag(s^2) R^T
    rgbs: np.ndarray  # (g, 3) float32 in [0, 1]
    opacities: np.ndarray  # (g, 1) float32 in [0, 1] (viser wants the trailing 1)


def _rotation_matrices(q: np.ndarray) -> np.ndarray:
    """(g, 4) quaternions (w, x, y, z) of any norm -> (g, 3, 3)."""
    w, x, y, z = (q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), 1e-12)).T
    return np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
                     2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                     2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1).reshape(-1, 3, 3)


def splat_arrays(g: Gaussians) -> SplatArrays:
    """Unbatched Gaussians (g,) -> viser's arrays. Computed in float64, returned as float32."""
    if g.batch_shape:
        raise ValueError(f"splat_arrays: expected unbatched Gaussians, got batch shape {tuple(g.batch_shape)}")
    means, quats, scales, colors, opacities = (
        getattr(g, n).detach().cpu().double().numpy() for n in ("means", "quats", "scales", "colors", "opacities"))
    M = _rotation_matrices(quats) * scales[:, None, :]  # R S: column j of R scaled by s_j
    return SplatArrays(
        centers=means.astype(np.float32),
        covariances=(M @ M.transpose(0, 2, 1)).astype(np.float32),
        rgbs=np.clip(colors, 0.0, 1.0).astype(np.float32),
        opacities=np.clip(opacities, 0.0, 1.0).astype(np.float32)[:, None],
    )
