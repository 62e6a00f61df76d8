import pytest
import torch

from wonderland.geometry import Cameras, make_K, matrix_to_quat, quat_to_matrix, rigid_inverse
from wonderland.geometry.rotations import axis_angle_to_matrix, is_rotation

from .test_plucker import random_cameras

H, W = 24, 32


@pytest.fixture
def cams():
    c2w, K = random_cameras(4, torch.Generator().manual_seed(3))
    return Cameras(c2w, K, H, W)


def project_by_hand(c2w, K, X):
    """Independent path: invert c2w with a general inverse, pinhole projection."""
    x = torch.linalg.inv(c2w) @ torch.cat([X, torch.ones(1, dtype=X.dtype)])
    return (K @ x[:3])[:2] / x[2]


def test_rigid_inverse(cams):
    torch.testing.assert_close(rigid_inverse(cams.c2w) @ cams.c2w, torch.eye(4, dtype=torch.float64).expand(4, 4, 4))


def test_project_matches_hand_projection(cams):
    X = torch.tensor([0.3, -0.2, 0.5], dtype=torch.float64)
    uv, _ = cams.project(X.expand(4, 1, 3))
    for i in range(4):
        torch.testing.assert_close(uv[i, 0], project_by_hand(cams.c2w[i], cams.K[i], X))


@pytest.mark.parametrize("conversion", ["w2c", "opengl", "colmap", "re10k"])
def test_conversions_round_trip_and_agree(cams, conversion):
    if conversion == "w2c":
        back = Cameras.from_w2c(cams.w2c, cams.K, H, W)
    elif conversion == "opengl":
        back = Cameras.from_opengl_c2w(cams.to_opengl_c2w(), cams.K, H, W)
    elif conversion == "colmap":
        q, t = cams.to_colmap()
        back = Cameras.from_colmap(q, t, cams.K, H, W)
    else:
        back = Cameras.from_re10k(cams.to_re10k(), H, W)
    torch.testing.assert_close(back.c2w, cams.c2w)
    torch.testing.assert_close(back.K, cams.K)


def test_opengl_camera_looks_down_its_negative_z(cams):
    # A point in front of an OpenCV camera (+z) has negative z in the OpenGL camera frame.
    X = cams.centers[0] + 2.0 * cams.c2w[0, :3, 2]
    gl_w2c = torch.linalg.inv(cams.to_opengl_c2w()[0])
    x_gl = gl_w2c[:3, :3] @ X + gl_w2c[:3, 3]
    assert x_gl[2] == pytest.approx(-2.0)


def test_colmap_independent_construction():
    # COLMAP: X_cam = R(q) X + t. Build a camera by hand and compare projections.
    q = torch.tensor([0.9, 0.1, -0.3, 0.2], dtype=torch.float64)
    q = q / q.norm()
    t = torch.tensor([0.1, 0.2, 3.0], dtype=torch.float64)
    K = make_K(30.0, 30.0, 16.0, 12.0)
    cam = Cameras.from_colmap(q, t, K, H, W)
    w, x, y, z = q
    R = torch.tensor([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                      [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                      [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]], dtype=torch.float64)
    X = torch.tensor([0.2, -0.1, 0.4], dtype=torch.float64)
    xc = R @ X + t
    expected = (K @ xc)[:2] / xc[2]
    uv, depth = cam.project(X[None])
    torch.testing.assert_close(uv[0], expected)
    assert depth[0] == pytest.approx(float(xc[2]))


def test_re10k_row_independent_construction():
    # Row: fx fy cx cy normalised by width/height, 0 0, then row-major 3x4 w2c.
    R = axis_angle_to_matrix(torch.tensor([0.2, 1.0, 0.1], dtype=torch.float64), torch.tensor(0.4, dtype=torch.float64))
    t = torch.tensor([0.5, -0.1, 1.0], dtype=torch.float64)
    row = torch.cat([torch.tensor([0.9, 1.2, 0.5, 0.45, 0, 0], dtype=torch.float64),
                     torch.cat([R, t[:, None]], 1).flatten()])
    cam = Cameras.from_re10k(row, H, W)
    X = torch.tensor([0.1, 0.3, 2.0], dtype=torch.float64)
    xc = R @ X + t
    expected = torch.stack([0.9 * W * xc[0] / xc[2] + 0.5 * W, 1.2 * H * xc[1] / xc[2] + 0.45 * H])
    torch.testing.assert_close(cam.project(X[None])[0][0], expected)


def test_quaternion_round_trip():
    R = axis_angle_to_matrix(torch.randn(10, 3, dtype=torch.float64), torch.rand(10, dtype=torch.float64) * 3.1)
    q = matrix_to_quat(R)
    assert (q[:, 0] >= 0).all()
    torch.testing.assert_close(quat_to_matrix(q), R)
    assert is_rotation(R).all()
    assert not is_rotation(R * 1.1).any()


def test_resize_crop_shims_match_image_operations(cams):
    X = torch.randn(4, 20, 3, dtype=torch.float64) * 0.3
    uv, _ = cams.project(X)
    # Resizing the image by (sy, sx) maps continuous pixel coordinates by the same factors.
    small = cams.resize(12, 8)
    uv_small, _ = small.project(X)
    torch.testing.assert_close(uv_small, uv * torch.tensor([8 / W, 12 / H], dtype=torch.float64))
    # Cropping the projection equals projecting after the crop shim.
    cropped = cams.crop(top=5, left=7, height=10, width=12)
    torch.testing.assert_close(cropped.project(X)[0], uv - torch.tensor([7.0, 5.0], dtype=torch.float64))
    assert (cropped.height, cropped.width) == (10, 12)


def test_center_crop_resize(cams):
    out = cams.center_crop_resize(16, 16)  # 24x32 -> centred 24x24 window at left=4 -> 16x16
    assert cams.center_crop_box(16, 16) == (0, 4, 24, 24)
    assert (out.height, out.width) == (16, 16)
    s = 16 / 24
    torch.testing.assert_close(out.K[:, 0, 2], (cams.K[:, 0, 2] - 4) * s)
    torch.testing.assert_close(out.K[:, 1, 2], cams.K[:, 1, 2] * s)
    torch.testing.assert_close(out.K[:, 0, 0], cams.K[:, 0, 0] * s)
