"""Look at a generated scene in the browser: viser (nerfstudio's viewer library) shows the Gaussians,
the camera frusta with the generated frames on them and the path. `wonderland-view` is the command;
viser is the optional extra `viewer`, imported only when a scene is built or served."""

from .splats import SplatArrays, splat_arrays

__all__ = ["SplatArrays", "splat_arrays"]
