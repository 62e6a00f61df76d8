"""Chunk planning, re-expression at chunk 0's scale, and the jump check (pure functions, no model)."""

import pytest
import torch

from wonderland.errors import InputError
from wonderland.geometry import Cameras, axis_angle_to_matrix
from wonderland.trajectories import make_preset
from wonderland.trajectories.chunks import (
    JUMP_FACTOR,
    chunk_cameras,
    chunk_scale,
    find_jump,
    plan_chunks,
)


def starts(plan):
    return [c.start for c in plan]


def test_plan_known_values():
    plan = plan_chunks(145, 49, 1)  # 145 = 1 + 3 x 48: three chunks sharing their conditioning frames
    assert starts(plan) == [0, 48, 96] and [c.shared for c in plan] == [0, 1, 1]
    assert [(c.video_start, c.video_stop) for c in plan] == [(0, 49), (49, 97), (97, 145)]
    assert [c.conditioning_offset for c in plan[1:]] == [48, 48]  # the previous chunk's last frame
    plan = plan_chunks(145, 49, 3)
    assert starts(plan) == [0, 46, 92, 96]  # the last window is pulled back to end on frame 144 ...
    assert [c.shared for c in plan] == [0, 3, 3, 45]  # ... and overlaps its predecessor by more
    assert [c.conditioning_offset for c in plan[1:]] == [46, 46, 4]
    assert starts(plan_chunks(100, 49, 1)) == [0, 48, 51]
    assert starts(plan_chunks(49, 49, 1)) == [0]


@pytest.mark.parametrize("n,f,m", [(50, 49, 1), (145, 49, 1), (145, 49, 24), (300, 13, 3), (14, 13, 6), (977, 49, 5)])
def test_plan_invariants(n, f, m):
    plan = plan_chunks(n, f, m)
    assert plan[0].start == 0 and plan[-1].stop == n
    assert all(c.stop - c.start == f for c in plan)
    for prev, c in zip(plan, plan[1:]):
        assert prev.start < c.start < prev.stop  # conditioned on a frame the previous chunk made
        assert c.shared == prev.stop - c.start >= m
        assert prev.start + c.conditioning_offset == c.start
    # Every frame of the walk is in the video exactly once, taken from a chunk that made it.
    owners = [c.index for c in plan for _ in range(c.video_start, c.video_stop)]
    assert len(owners) == n
    frames = [i for c in plan for i in range(c.video_start, c.video_stop)]
    assert frames == list(range(n))
    assert all(c.start <= c.video_start and c.video_stop <= c.stop for c in plan)


@pytest.mark.parametrize("m", [0, 25, -1])
def test_bad_overlap_is_refused(m):
    with pytest.raises(InputError, match="chunk_overlap"):
        plan_chunks(145, 49, m)


def _wobbly_walk(n: int) -> Cameras:
    """A path with rotation and translation in every frame, far from the origin (rounding shows)."""
    t = torch.linspace(0, 1, n, dtype=torch.float64)
    c2w = torch.eye(4, dtype=torch.float64).repeat(n, 1, 1)
    axis = torch.stack([0.3 * torch.sin(7 * t), torch.ones_like(t), 0.2 * torch.cos(5 * t)], -1)
    c2w[:, :3, :3] = axis_angle_to_matrix(axis, 3.0 * t)
    c2w[:, :3, 3] = torch.stack([40 * t, 2 * torch.sin(9 * t), 100 + 30 * t * t], -1)
    K = torch.tensor([[30.0, 0, 24], [0, 30, 16], [0, 0, 1]], dtype=torch.float64)
    return Cameras(c2w, K, 32, 48)


def test_continuity_and_no_drift_over_many_chunks():
    traj = _wobbly_walk(1 + 48 * 10)
    plan = plan_chunks(len(traj), 49, 1)
    assert len(plan) == 10 and all(c.shared == 1 for c in plan[1:])
    scale = chunk_scale(traj, 49)
    errors = []
    for prev, c in zip([None] + plan[:-1], plan):
        cams, norm = chunk_cameras(traj, c, scale)
        assert torch.equal(cams.c2w[0], torch.eye(4, dtype=torch.float64))  # the model's frame 0, exactly
        assert torch.equal(norm.reference, traj.c2w[c.start])  # re-expressed from the requested pose itself
        back = norm.invert(cams.c2w)
        errors.append(float((back - traj.c2w[c.start:c.stop]).abs().max()))
        if prev is not None:  # the first camera of chunk k+1 is the last of chunk k
            prev_cams, prev_norm = chunk_cameras(traj, prev, scale)
            assert torch.equal(traj[c.start:c.stop].c2w[0], traj[prev.start:prev.stop].c2w[-1])
            torch.testing.assert_close(prev_norm.invert(prev_cams.c2w)[-1], norm.invert(cams.c2w)[0],
                                       rtol=0, atol=1e-12)
    assert max(errors) < 1e-11  # a round trip, not a chain: the last chunk is as exact as the first
    assert errors[-1] < 10 * max(errors[0], 1e-14)


def test_reexpression_is_at_chunk_zeros_scale():
    traj = make_preset("dolly_in", 97, 32, 48, distance=2.0)  # 2 units in 96 steps
    plan = plan_chunks(97, 49, 1)
    scale = chunk_scale(traj, 49)
    assert float(scale) == pytest.approx(1.0)  # chunk 0 travels half the way
    cams, norm = chunk_cameras(traj, plan[1], scale)
    # Chunk 1 travels as far as chunk 0: at chunk 0's scale its last camera is 1 unit ahead.
    torch.testing.assert_close(cams.c2w[-1, :3, 3], torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(cams.K, traj.K[48:97])
    # A slower second half keeps chunk 0's unit: half the distance, not renormalised to 1.
    slow = make_preset("dolly_in", 97, 32, 48, distance=2.0)
    slow.c2w[49:, 2, 3] = 1.0 + 0.5 * (slow.c2w[49:, 2, 3] - 1.0)
    cams, _ = chunk_cameras(slow, plan[1], chunk_scale(slow, 49))
    assert float(cams.c2w[-1, 2, 3]) == pytest.approx(0.5)


def test_smooth_paths_have_no_jump():
    assert find_jump(make_preset("orbit", 145, degrees=270)) is None
    assert find_jump(make_preset("spiral", 145, turns=3)) is None
    # Walk, then turn on the spot: the typical step is the walking step, and turning is no jump.
    walk = make_preset("dolly_in", 60, distance=3.0)
    turn = make_preset("pan_left", 85, degrees=120)
    turn.c2w[:, :3, 3] = walk.c2w[-1, :3, 3]
    path = Cameras(torch.cat([walk.c2w, turn.c2w[1:]]), torch.cat([walk.K, turn.K[1:]]), 480, 720)
    assert find_jump(path) is None
    # An eased path whose speed varies 5x is still smooth.
    eased = make_preset("dolly_in", 145)
    s = torch.linspace(0, 1, 145, dtype=torch.float64)
    eased.c2w[:, 2, 3] = s + 0.4 * s * s * s
    assert find_jump(eased) is None


def test_a_teleport_is_found_at_its_frame():
    path = make_preset("orbit", 145, degrees=270)
    step = float((path.centers[1] - path.centers[0]).norm())
    path.c2w[70:, 0, 3] += (JUMP_FACTOR + 2) * step  # frames 70.. are shifted: one jump between 69 and 70
    i, what = find_jump(path)
    assert i == 69 and "moves" in what
    path.c2w[70:, 0, 3] -= 4 * step  # 8x the step: fast, not a cut
    assert find_jump(path) is None
    flick = make_preset("dolly_in", 145)
    flick.c2w[100:, :3, :3] = axis_angle_to_matrix(torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64),
                                                   torch.tensor(0.5, dtype=torch.float64))  # 29 degrees at once
    i, what = find_jump(flick)
    assert i == 99 and "turns" in what
    still = make_preset("pan_right", 145, degrees=90)
    still.c2w[120:, 1, 3] += 1e-4  # a pan that slips once: to the models (unit extent) a teleport
    i, what = find_jump(still)
    assert i == 119 and "stands still" in what
