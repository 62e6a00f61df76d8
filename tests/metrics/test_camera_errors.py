"""RotErr / TransErr: zero on identity, similarity invariant, hand-computed values, explicit unregistered policy."""

import math

import pytest
import torch

from wonderland.geometry import axis_angle_to_matrix, look_at
from wonderland.metrics import camera_errors


def rotvec(v) -> torch.Tensor:
    v = torch.as_tensor(v, dtype=torch.float32)
    return axis_angle_to_matrix(v, v.norm(dim=-1))


def line_trajectory(centres: list[tuple[float, float, float]], rotations=None) -> torch.Tensor:
    c2w = torch.eye(4).repeat(len(centres), 1, 1)
    c2w[:, :3, 3] = torch.tensor(centres)
    if rotations is not None:
        c2w[:, :3, :3] = rotations
    return c2w


def orbit(num: int = 16) -> torch.Tensor:
    angles = torch.linspace(0, 1.2, num)
    eyes = torch.stack([3 * torch.sin(angles), 0.3 * angles, -3 * torch.cos(angles)], -1)
    return look_at(eyes, torch.zeros(num, 3), torch.tensor([0.0, -1.0, 0.0]).expand(num, 3))


def perturb(c2w: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    out = c2w.clone()
    dR = rotvec(0.05 * torch.randn(len(c2w), 3, generator=gen))
    out[:, :3, :3] = c2w[:, :3, :3] @ dR
    out[:, :3, 3] += 0.1 * torch.randn(len(c2w), 3, generator=gen)
    return out


def similarity(c2w: torch.Tensor, axis_angle, t, s: float) -> torch.Tensor:
    """World-frame similarity x -> s R x + t applied to the cameras (rotations stay rotations)."""
    R = rotvec(axis_angle)
    out = c2w.clone()
    out[:, :3, :3] = R @ c2w[:, :3, :3]
    out[:, :3, 3] = s * c2w[:, :3, 3] @ R.T + torch.tensor(t)
    return out


def test_identical_trajectories_score_zero():
    gt = orbit()
    errs = camera_errors(gt, gt)
    assert errs["rot_err"] == pytest.approx(0, abs=1e-6) and errs["trans_err"] == pytest.approx(0, abs=1e-6)
    assert errs["num_unregistered"] == 0 and errs["num_frames"] == 16


def test_invariant_to_global_similarity_of_estimate(rng):
    gt = orbit()
    est = perturb(gt, rng)
    base = camera_errors(est, gt)
    assert base["rot_err"] > 0.1 and base["trans_err"] > 0.1
    for aa, t, s in (([0.3, -1.2, 0.7], [5.0, -2.0, 1.0], 3.7), ([2.5, 0.1, 0.0], [0.0, 0.0, -9.0], 0.02)):
        moved = camera_errors(similarity(est, aa, t, s), gt)
        assert moved["rot_err"] == pytest.approx(base["rot_err"], abs=1e-5)
        assert moved["trans_err"] == pytest.approx(base["trans_err"], abs=1e-5)
    # An identical trajectory in another world frame and scale still scores 0.
    assert camera_errors(similarity(gt, [0.3, 2.0, -1.0], [1.0, 2.0, 3.0], 5.0), gt)["rot_err"] < 1e-5


def test_hand_computed_perturbations():
    gt = line_trajectory([(0, 0, 0), (1, 0, 0), (2, 0, 0), (3, 0, 0)])  # normalised centres x = 0, 1/3, 2/3, 1
    # Frame 2 yawed by 0.1 rad, frame 1 shifted by 0.5 in y: the scale (3) is unchanged.
    rots = torch.eye(3).repeat(4, 1, 1)
    rots[2] = rotvec([0.0, 0.1, 0.0])
    est = line_trajectory([(0, 0, 0), (1, 0.5, 0), (2, 0, 0), (3, 0, 0)], rots)
    errs = camera_errors(est, gt)
    assert errs["rot_err"] == pytest.approx(0.1, abs=1e-6)
    assert errs["trans_err"] == pytest.approx(0.5 / 3, abs=1e-6)
    assert errs["per_frame_rot_err"][2] == pytest.approx(0.1, abs=1e-6)
    # The estimate's own scale is its farthest centre (3, 4, 0) at distance 5:
    # centres 0.2, 0.4, (0.6, 0.8) against 1/3, 2/3, 1.
    est = line_trajectory([(0, 0, 0), (1, 0, 0), (2, 0, 0), (3, 4, 0)])
    errs = camera_errors(est, gt)
    assert errs["trans_err"] == pytest.approx(2 / 15 + 4 / 15 + math.sqrt(0.4**2 + 0.8**2), abs=1e-6)
    assert errs["rot_err"] == pytest.approx(0, abs=1e-7)


def test_unregistered_frames_are_counted_and_handled_by_policy():
    gt = line_trajectory([(0, 0, 0), (1, 0, 0), (2, 0, 0), (3, 0, 0)])
    est = line_trajectory([(0, 0, 0), (1, 0.5, 0), (2, 0, 0), (3, 0, 0)])
    est[2] = float("nan")  # SfM has no pose for it
    mask = torch.tensor([True, True, False, True])
    errs = camera_errors(est, gt, mask)
    assert errs["num_unregistered"] == 1 and math.isnan(errs["per_frame_trans_err"][2])
    assert errs["trans_err"] == pytest.approx(0.5 / 3, abs=1e-6)
    pen = camera_errors(est, gt, mask, unregistered="penalize")
    assert pen["rot_err"] == pytest.approx(math.pi, abs=1e-6)
    assert pen["trans_err"] == pytest.approx(0.5 / 3 + 2.0, abs=1e-6)
    # Frame 0 unregistered: frame 1 becomes the reference (centres 0, 1/2, 1 in both).
    errs = camera_errors(gt, gt, torch.tensor([False, True, True, True]))
    assert errs["reference_frame"] == 1 and errs["trans_err"] == pytest.approx(0, abs=1e-6)
    none = camera_errors(gt, gt, torch.zeros(4, dtype=torch.bool))
    assert math.isnan(none["rot_err"]) and none["num_unregistered"] == 4
