"""The alignment report's camera errors (`wonderland.align.evaluate.camera_scores`): zero for the generation cameras
themselves (in any world frame and scale, as SfM returns them), growing with a perturbation by the known amount,
unregistered frames and COLMAP failures counted, and the frames COLMAP sees upscaled with K scaled alike.
COLMAP itself is replaced by a stub that returns chosen poses (the real one is exercised by tests/test_sfm*)."""

import math

import pytest
import torch

from wonderland.align.evaluate import camera_scores, mean_scores
from wonderland.geometry import make_K
from wonderland.geometry.rotations import axis_angle_to_matrix
from wonderland.sfm import SfMResult

F, H, W = 16, 32, 48


def path() -> torch.Tensor:
    """(F, 4, 4) c2w: a walk along x while yawing, 0.1 units and 2 degrees a frame."""
    c2w = torch.eye(4, dtype=torch.float64).repeat(F, 1, 1)
    yaw = torch.deg2rad(torch.arange(F, dtype=torch.float64) * 2.0)
    c2w[:, :3, :3] = axis_angle_to_matrix(torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64).expand(F, 3), yaw)
    c2w[:, 0, 3] = torch.arange(F, dtype=torch.float64) * 0.1
    return c2w


def similar(c2w: torch.Tensor) -> torch.Tensor:
    """The same cameras in another world frame and scale (what SfM is free to return)."""
    S = torch.eye(4, dtype=torch.float64)
    S[:3, :3] = axis_angle_to_matrix(torch.tensor([0.3, -0.5, 0.8], dtype=torch.float64), torch.tensor(1.1,
                                                                                                       dtype=torch.float64))
    S[:3, 3] = torch.tensor([2.0, -1.0, 5.0])
    out = S @ c2w
    out[:, :3, 3] *= 3.7
    return out


def stub(c2w: torch.Tensor, registered: torch.Tensor | None = None, seen: list | None = None):
    def estimate(frames, K):
        if seen is not None:
            seen.append((tuple(frames.shape), K.clone()))
        reg = torch.ones(F, dtype=torch.bool) if registered is None else registered
        est = c2w.clone()
        est[~reg] = float("nan")
        return SfMResult(est, reg, int(reg.any()), 100, 0.5)
    return estimate


def scores(est: torch.Tensor, registered=None, seen=None) -> dict:
    frames = torch.rand(F + 4, 3, H, W)
    K = make_K(40.0, 40.0, W / 2, H / 2).double()
    return camera_scores(frames, torch.cat([path(), path()[:4]]), K, num_frames=F, estimate=stub(est, registered, seen))


def test_zero_for_the_generation_cameras_in_any_similarity_frame():
    s = scores(similar(path()))
    assert s["rot_err_deg"] == pytest.approx(0.0, abs=1e-6) and s["trans_err"] == pytest.approx(0.0, abs=1e-9)
    assert (s["registered_frames"], s["sfm_failures"]) == (1.0, 0.0)


def test_grows_with_a_perturbation_by_its_known_size():
    errs = []
    for deg in (1.0, 4.0):  # every camera but the reference turned `deg` about its own optical axis
        est = path()
        turn = axis_angle_to_matrix(torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64), torch.tensor(math.radians(deg),
                                                                                                      dtype=torch.float64))
        est[1:, :3, :3] = est[1:, :3, :3] @ turn
        s = scores(similar(est))
        assert s["rot_err_deg"] == pytest.approx(deg * (F - 1) / F, rel=1e-6)  # mean over frames, frame 0 exact
        assert s["trans_err"] == pytest.approx(0.0, abs=1e-9)  # centres untouched
        errs.append(s["rot_err_deg"])
    assert errs[1] > 3.9 * errs[0]
    shifted = path()
    shifted[F // 2:, 1, 3] += 0.3  # the second half of the path moves sideways
    s = scores(similar(shifted))
    assert s["trans_err"] > 0.05 and s["rot_err_deg"] == pytest.approx(0.0, abs=1e-6)


def test_unregistered_frames_and_failures_are_counted_not_scored():
    reg = torch.ones(F, dtype=torch.bool)
    reg[[3, 7, 11, 15]] = False
    s = scores(similar(path()), reg)
    assert s["registered_frames"] == 0.75 and s["rot_err_deg"] == pytest.approx(0.0, abs=1e-6)
    failed = scores(path(), torch.zeros(F, dtype=torch.bool))
    assert failed["sfm_failures"] == 1.0 and math.isnan(failed["rot_err_deg"]) and failed["registered_frames"] == 0
    mean = mean_scores([s, failed, {**s, "rot_err_deg": 3.0}])
    assert mean["sfm_failures"] == 1.0 and mean["rot_err_deg"] == pytest.approx(1.5, abs=1e-6)


def test_colmap_sees_upscaled_frames_with_intrinsics_scaled_alike():
    seen = []
    scores(path(), seen=seen)
    shape, K = seen[0]
    assert shape == (F, 3, 4 * H, 4 * W)
    assert K.tolist() == make_K(160.0, 160.0, 2.0 * W, 2.0 * H).double().tolist()
