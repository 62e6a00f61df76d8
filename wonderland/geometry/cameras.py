"""`Cameras`: the project's one camera type. Conventions (SPEC.md section 0), stated once here:

- OpenCV camera axes: x right, y down, z forward. Poses are camera-to-world 4x4 (`c2w`).
- Intrinsics `K` are in pixels of the image of size (height, width) that the cameras describe.
- Pixel (row i, col j) has its centre at continuous coordinates (u, v) = (j + 0.5, i + 0.5), so the
  image spans [0, width] x [0, height]; resizing scales K, cropping shifts the principal point.
- External conventions are converted here and only here (readers call these constructors):
  world-to-camera (`w2c`), OpenGL/nerfstudio c2w (y up, z backward), COLMAP (qvec w,x,y,z + tvec of
  w2c), RealEstate10K rows (fx fy cx cy normalised by width/height, 0 0, row-major 3x4 w2c).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Float
from torch import Tensor

from ..precision import full_precision
from .rotations import matrix_to_quat, quat_to_matrix

# Flips y and z: OpenGL camera axes <-> OpenCV camera axes (its own inverse).
OPENGL_TO_OPENCV = torch.diag(torch.tensor([1.0, -1.0, -1.0, 1.0], dtype=torch.float64))


@full_precision
def rigid_inverse(T: Float[Tensor, "*b 4 4"]) -> Float[Tensor, "*b 4 4"]:
    """Inverse of a rigid transform [R | t] without a general matrix inverse."""
    R, t = T[..., :3, :3], T[..., :3, 3:]
    out = torch.zeros_like(T)
    out[..., :3, :3] = R.transpose(-1, -2)
    out[..., :3, 3:] = -R.transpose(-1, -2) @ t
    out[..., 3, 3] = 1
    return out


def make_K(fx, fy, cx, cy) -> Float[Tensor, "*b 3 3"]:
    """Pixel intrinsics from tensors (or floats) of any common batch shape."""
    fx, fy, cx, cy = torch.broadcast_tensors(*(torch.as_tensor(v, dtype=torch.float64) for v in (fx, fy, cx, cy)))
    K = torch.zeros(*fx.shape, 3, 3, dtype=fx.dtype)
    K[..., 0, 0], K[..., 1, 1], K[..., 0, 2], K[..., 1, 2], K[..., 2, 2] = fx, fy, cx, cy, 1
    return K


def K_from_fov(fov_y_degrees: float, height: int, width: int) -> Float[Tensor, "3 3"]:
    """Square-pixel intrinsics with a vertical field of view, principal point at the image centre."""
    f = 0.5 * height / torch.tan(torch.deg2rad(torch.tensor(fov_y_degrees, dtype=torch.float64)) / 2)
    return make_K(f, f, width / 2, height / 2)


def _pose(R: Tensor, t: Tensor) -> Tensor:
    T = torch.zeros(*R.shape[:-2], 4, 4, dtype=R.dtype, device=R.device)
    T[..., :3, :3], T[..., :3, 3], T[..., 3, 3] = R, t, 1
    return T


@dataclass
class Cameras:
    """A batch of pinhole cameras sharing one image size. Batch shape `*b` is c2w.shape[:-2]."""

    c2w: Float[Tensor, "*b 4 4"]  # OpenCV axes, camera-to-world
    K: Float[Tensor, "*b 3 3"]  # pixels of an image (height, width)
    height: int
    width: int

    def __post_init__(self):
        if self.c2w.shape[-2:] != (4, 4) or self.K.shape[-2:] != (3, 3):
            raise ValueError(f"Cameras: expected c2w (...,4,4) and K (...,3,3), got {tuple(self.c2w.shape)}, "
                             f"{tuple(self.K.shape)}")
        if self.K.shape[:-2] != self.c2w.shape[:-2]:
            self.K = self.K.to(self.c2w).expand(*self.c2w.shape[:-2], 3, 3).clone()
        self.height, self.width = int(self.height), int(self.width)

    # ---- batch plumbing -------------------------------------------------------------------------
    @property
    def shape(self) -> torch.Size:
        return self.c2w.shape[:-2]

    def __len__(self) -> int:
        return self.c2w.shape[0]

    def __getitem__(self, idx) -> Cameras:
        return Cameras(self.c2w[idx], self.K[idx], self.height, self.width)

    def to(self, *args, **kwargs) -> Cameras:
        return Cameras(self.c2w.to(*args, **kwargs), self.K.to(*args, **kwargs), self.height, self.width)

    @staticmethod
    def cat(cams: list[Cameras], dim: int = 0) -> Cameras:
        if len({(c.height, c.width) for c in cams}) != 1:
            raise ValueError("Cameras.cat: all cameras must share one image size")
        return Cameras(torch.cat([c.c2w for c in cams], dim), torch.cat([c.K for c in cams], dim),
                       cams[0].height, cams[0].width)

    # ---- poses -------------------------------------------------------------------------------
    @property
    def w2c(self) -> Float[Tensor, "*b 4 4"]:
        return rigid_inverse(self.c2w)

    @property
    def centers(self) -> Float[Tensor, "*b 3"]:
        return self.c2w[..., :3, 3]

    @classmethod
    def from_w2c(cls, w2c: Tensor, K: Tensor, height: int, width: int) -> Cameras:
        return cls(rigid_inverse(w2c), K, height, width)

    @classmethod
    @full_precision
    def from_opengl_c2w(cls, c2w_gl: Tensor, K: Tensor, height: int, width: int) -> Cameras:
        """nerfstudio / Blender / DL3DV c2w (x right, y up, z backward)."""
        return cls(c2w_gl @ OPENGL_TO_OPENCV.to(c2w_gl), K, height, width)

    @full_precision
    def to_opengl_c2w(self) -> Float[Tensor, "*b 4 4"]:
        return self.c2w @ OPENGL_TO_OPENCV.to(self.c2w)

    @classmethod
    def from_colmap(cls, qvec: Float[Tensor, "*b 4"], tvec: Float[Tensor, "*b 3"], K: Tensor, height: int,
                    width: int) -> Cameras:
        """COLMAP image pose: world-to-camera rotation as qvec (w, x, y, z) and translation tvec."""
        return cls.from_w2c(_pose(quat_to_matrix(qvec), tvec), K, height, width)

    def to_colmap(self) -> tuple[Float[Tensor, "*b 4"], Float[Tensor, "*b 3"]]:
        w2c = self.w2c
        return matrix_to_quat(w2c[..., :3, :3]), w2c[..., :3, 3]

    @classmethod
    def from_re10k(cls, rows: Float[Tensor, "*b 18"], height: int, width: int) -> Cameras:
        """RealEstate10K row without timestamp: fx fy cx cy (normalised) 0 0, then row-major 3x4 w2c."""
        rows = torch.as_tensor(rows, dtype=torch.float64)
        K = make_K(rows[..., 0] * width, rows[..., 1] * height, rows[..., 2] * width, rows[..., 3] * height)
        w2c = torch.zeros(*rows.shape[:-1], 4, 4, dtype=rows.dtype)
        w2c[..., :3, :] = rows[..., 6:18].reshape(*rows.shape[:-1], 3, 4)
        w2c[..., 3, 3] = 1
        return cls.from_w2c(w2c, K, height, width)

    def to_re10k(self) -> Float[Tensor, "*b 18"]:
        K, w2c = self.K, self.w2c
        intr = torch.stack([K[..., 0, 0] / self.width, K[..., 1, 1] / self.height,
                            K[..., 0, 2] / self.width, K[..., 1, 2] / self.height], -1)
        zeros = torch.zeros(*intr.shape[:-1], 2, dtype=intr.dtype, device=intr.device)
        return torch.cat([intr, zeros, w2c[..., :3, :].flatten(-2)], -1)

    # ---- projection ----------------------------------------------------------------------------
    @full_precision
    def project(self, points: Float[Tensor, "*b p 3"]) -> tuple[Float[Tensor, "*b p 2"], Float[Tensor, "*b p"]]:
        """World points -> pixel coordinates (u, v) (pixel centres at +0.5) and camera-space depth z."""
        w2c = self.w2c
        cam = points @ w2c[..., :3, :3].transpose(-1, -2) + w2c[..., None, :3, 3]
        z = cam[..., 2]
        uvw = cam @ self.K.transpose(-1, -2)
        return uvw[..., :2] / z[..., None], z

    # ---- image shims: intrinsics follow the pixels ---------------------------------------------
    @full_precision
    def resize(self, height: int, width: int) -> Cameras:
        """Cameras of the same views resampled to (height, width) (the whole image is kept)."""
        sx, sy = width / self.width, height / self.height
        scale = torch.tensor([[sx, 0, 0], [0, sy, 0], [0, 0, 1]], dtype=self.K.dtype, device=self.K.device)
        return Cameras(self.c2w, scale @ self.K, height, width)

    def crop(self, top: int, left: int, height: int, width: int) -> Cameras:
        """Cameras of the pixel window rows [top, top+height), cols [left, left+width)."""
        K = self.K.clone()
        K[..., 0, 2] -= left
        K[..., 1, 2] -= top
        return Cameras(self.c2w, K, height, width)

    def center_crop_box(self, height: int, width: int) -> tuple[int, int, int, int]:
        """(top, left, h, w) of the largest centred window with the aspect of (height, width)."""
        return center_crop_box(self.height, self.width, height, width)

    def center_crop_resize(self, height: int, width: int) -> Cameras:
        top, left, h, w = self.center_crop_box(height, width)
        return self.crop(top, left, h, w).resize(height, width)


def center_crop_box(src_h: int, src_w: int, height: int, width: int) -> tuple[int, int, int, int]:
    """Largest centred (top, left, h, w) window of a src image that has the aspect ratio height:width."""
    if src_w * height > width * src_h:  # source too wide
        h, w = src_h, max(1, round(src_h * width / height))
    else:
        h, w = max(1, round(src_w * height / width)), src_w  # >= 1: a 1-pixel-wide image still has a crop
    return (src_h - h) // 2, (src_w - w) // 2, h, w
