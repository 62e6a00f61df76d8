"""`Gaussians`: the project's one container of 3D Gaussian splats (SPEC.md section 0).

Fields carry any leading batch shape `*b` in front of the Gaussian dimension `g`:
means (*b, g, 3) world positions, quats (*b, g, 4) rotations as (w, x, y, z) of any norm (renderers
normalise), scales (*b, g, 3) linear standard deviations along the rotated axes, opacities (*b, g) in
[0, 1], colors (*b, g, 3) RGB in [0, 1] (spherical-harmonics degree 0), and optionally
sh_rest (*b, g, k, 3), the higher SH coefficients a PLY may carry (renderers here use `colors` only).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from jaxtyping import Float
from torch import Tensor

from ..precision import full_precision

_FIELDS = ("means", "quats", "scales", "opacities", "colors", "sh_rest")


@dataclass
class Gaussians:
    means: Float[Tensor, "*b g 3"]
    quats: Float[Tensor, "*b g 4"]
    scales: Float[Tensor, "*b g 3"]
    opacities: Float[Tensor, "*b g"]
    colors: Float[Tensor, "*b g 3"]
    sh_rest: Float[Tensor, "*b g k 3"] | None = None

    def __post_init__(self):
        lead = self.means.shape[:-1]
        expected = {"means": (*lead, 3), "quats": (*lead, 4), "scales": (*lead, 3), "opacities": lead,
                    "colors": (*lead, 3)}
        for name, shape in expected.items():
            if tuple(getattr(self, name).shape) != tuple(shape):
                raise ValueError(f"Gaussians: {name} has shape {tuple(getattr(self, name).shape)}, "
                                 f"expected {tuple(shape)} (from means {tuple(self.means.shape)})")
        if self.sh_rest is not None and (self.sh_rest.shape[:-2] != lead or self.sh_rest.shape[-1] != 3):
            raise ValueError(f"Gaussians: sh_rest has shape {tuple(self.sh_rest.shape)}, "
                             f"expected (*{tuple(lead)}, k, 3)")

    # ---- shape ------------------------------------------------------------------------------------
    @property
    def num(self) -> int:
        """Number of Gaussians per batch element (g)."""
        return self.means.shape[-2]

    @property
    def batch_shape(self) -> torch.Size:
        return self.means.shape[:-2]

    def _map(self, fn) -> Gaussians:
        return Gaussians(**{f.name: None if getattr(self, f.name) is None else fn(getattr(self, f.name))
                            for f in fields(self)})

    def __getitem__(self, idx) -> Gaussians:
        """Index the batch dimensions (never the Gaussian dimension: use `select` for that)."""
        if not self.batch_shape:
            raise IndexError("Gaussians: unbatched; use select() to pick Gaussians")
        out = self._map(lambda t: t[idx])
        if out.means.dim() < 2:
            raise IndexError("Gaussians: indexing reached into the Gaussian dimension")
        return out

    def __len__(self) -> int:
        if not self.batch_shape:
            raise TypeError("Gaussians: unbatched container has no len(); use .num")
        return self.batch_shape[0]

    # ---- selection --------------------------------------------------------------------------------
    def select(self, mask_or_index: Tensor) -> Gaussians:
        """Keep the Gaussians picked by a boolean mask (g,) or an index tensor (n,) along dimension g."""
        idx = torch.as_tensor(mask_or_index, device=self.means.device)
        if idx.dtype == torch.bool:
            if idx.shape != (self.num,):
                raise ValueError(f"Gaussians.select: mask shape {tuple(idx.shape)} != ({self.num},)")
            idx = idx.nonzero().squeeze(-1)
        nb = len(self.batch_shape)
        return self._map(lambda t: t.index_select(nb, idx))

    def prune(self, min_opacity: float) -> Gaussians:
        """Drop Gaussians with opacity below `min_opacity` (unbatched only: batches would become ragged)."""
        if self.batch_shape:
            raise ValueError("Gaussians.prune: batched containers would become ragged; prune each element")
        return self.select(self.opacities >= min_opacity)

    @staticmethod
    def cat(items: list[Gaussians]) -> Gaussians:
        """Concatenate along the Gaussian dimension. Missing sh_rest counts as zeros of the others' degree."""
        if not items:
            raise ValueError("Gaussians.cat: empty list")
        nb = len(items[0].batch_shape)
        ks = {g.sh_rest.shape[-2] for g in items if g.sh_rest is not None}
        if len(ks) > 1:
            raise ValueError(f"Gaussians.cat: sh_rest degrees differ ({sorted(ks)} coefficients)")
        sh_rest = None
        if ks:
            k = ks.pop()
            sh_rest = torch.cat([g.sh_rest if g.sh_rest is not None
                                 else g.colors.new_zeros(*g.colors.shape[:-1], k, 3) for g in items], nb)
        return Gaussians(*(torch.cat([getattr(g, n) for g in items], nb) for n in _FIELDS[:-1]), sh_rest=sh_rest)

    # ---- tensor plumbing --------------------------------------------------------------------------
    def to(self, *args, **kwargs) -> Gaussians:
        return self._map(lambda t: t.to(*args, **kwargs))

    def detach(self) -> Gaussians:
        return self._map(Tensor.detach)


@full_precision
def pixel_aligned_gaussians(origins: Float[Tensor, "*b n 3"], dirs: Float[Tensor, "*b n 3"],
                            distance: Float[Tensor, "*b n"], colors: Float[Tensor, "*b n 3"],
                            scales: Float[Tensor, "*b n 3"], quats: Float[Tensor, "*b n 4"],
                            opacities: Float[Tensor, "*b n"]) -> Gaussians:
    """One Gaussian per pixel ray, centred at origin + distance * dir.

    Every input is already activated (the caller owns the activations and their ranges); `dirs` are
    the rays' directions as given (unit for `wonderland.geometry.ray_bundle`, so `distance` is the
    Euclidean distance from the camera centre).
    """
    if distance.shape != origins.shape[:-1]:
        raise ValueError(f"pixel_aligned_gaussians: distance {tuple(distance.shape)} does not match rays "
                         f"{tuple(origins.shape)}")
    return Gaussians(origins + distance[..., None] * dirs, quats, scales, opacities, colors)
