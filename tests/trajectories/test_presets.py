import pytest
import torch

from wonderland.geometry import normalize_cameras
from wonderland.trajectories import PRESETS, interpolate_keyframes, make_preset, resample


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_starts_at_identity_with_rotations(name):
    cams = make_preset(name, num_frames=13, height=48, width=64)
    assert cams.c2w.shape == (13, 4, 4)
    torch.testing.assert_close(cams.c2w[0], torch.eye(4, dtype=torch.float64))
    R = cams.c2w[:, :3, :3]
    torch.testing.assert_close(R.transpose(-1, -2) @ R, torch.eye(3, dtype=torch.float64).expand(13, 3, 3))
    norm, _ = normalize_cameras(cams)
    torch.testing.assert_close(norm.c2w[0], torch.eye(4, dtype=torch.float64))


def test_orbit_keeps_distance_and_looks_at_target():
    depth = 2.5
    cams = make_preset("orbit", num_frames=25, degrees=120, depth=depth)
    target = torch.tensor([0.0, 0.0, depth], dtype=torch.float64)
    dist = (cams.centers - target).norm(dim=-1)
    torch.testing.assert_close(dist, torch.full_like(dist, depth))
    to_target = (target - cams.centers) / dist[:, None]
    torch.testing.assert_close(cams.c2w[:, :3, 2], to_target)  # optical axis points at the target
    # The look-at point projects to the principal point in every frame.
    uv, _ = cams.project(target.expand(25, 1, 3))
    torch.testing.assert_close(uv[:, 0], cams.K[:, :2, 2])
    assert cams.centers[-1, 0] > 0  # positive degrees orbit to the right
    angle = torch.atan2(cams.c2w[-1, 0, 2], cams.c2w[-1, 2, 2])
    assert float(angle) == pytest.approx(-torch.pi * 120 / 180)


def test_directions_of_simple_moves():
    assert make_preset("dolly_in", num_frames=5).centers[-1, 2] > 0
    assert make_preset("dolly_out", num_frames=5).centers[-1, 2] < 0
    assert make_preset("pan_right", num_frames=5).c2w[-1, 0, 2] > 0  # optical axis turns to +x
    assert make_preset("pan_left", num_frames=5).c2w[-1, 0, 2] < 0
    assert make_preset("tilt_up", num_frames=5).c2w[-1, 1, 2] < 0  # towards -y = up
    assert make_preset("tilt_down", num_frames=5).c2w[-1, 1, 2] > 0
    z = make_preset("zoom_out", num_frames=5, factor=2.0)
    assert float(z.K[-1, 0, 0] / z.K[0, 0, 0]) == pytest.approx(0.5)
    assert make_preset("dolly_in", num_frames=5, distance=1.0, speed=2.0).centers[-1, 2] == pytest.approx(2.0)


def test_keyframe_interpolation_passes_through_keys_and_is_smooth():
    keys = make_preset("orbit", num_frames=5, degrees=90)
    dense = interpolate_keyframes(keys, 17)  # keys at every 4th frame
    torch.testing.assert_close(dense.c2w[::4], keys.c2w)
    # Rotations stay rotations; consecutive steps are small.
    R = dense.c2w[:, :3, :3]
    torch.testing.assert_close(R.transpose(-1, -2) @ R, torch.eye(3, dtype=torch.float64).expand(17, 3, 3))
    step = (dense.centers[1:] - dense.centers[:-1]).norm(dim=-1)
    assert step.max() < 2.5 * step.min()
    assert len(resample(keys, 49)) == 49
