"""Camera geometry: the one place where conventions live (see `cameras.py` docstring)."""

from .cameras import OPENGL_TO_OPENCV, Cameras, K_from_fov, center_crop_box, make_K, rigid_inverse
from .poses import PoseNormalization, normalize_cameras, normalize_poses, umeyama
from .rays import pixel_centers, plucker_embedding, ray_bundle
from .rotations import (
    axis_angle_to_matrix,
    geodesic_angle,
    is_rotation,
    look_at,
    matrix_to_quat,
    quat_to_matrix,
    slerp,
)

__all__ = [
    "OPENGL_TO_OPENCV", "Cameras", "K_from_fov", "center_crop_box", "make_K", "rigid_inverse",
    "PoseNormalization", "normalize_cameras", "normalize_poses", "pixel_centers", "plucker_embedding",
    "ray_bundle", "axis_angle_to_matrix", "geodesic_angle", "is_rotation", "look_at", "matrix_to_quat",
    "quat_to_matrix", "slerp", "umeyama",
]
