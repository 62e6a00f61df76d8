import pytest
import torch

from wonderland.geometry import normalize_poses
from wonderland.latents import group_frames, latent_shape, num_latent_frames, pad_frames, unpad_frames

from .test_plucker import random_cameras


def test_normalize_poses_identity_first_unit_scale_and_invertible():
    c2w, _ = random_cameras(7, torch.Generator().manual_seed(4))
    norm_c2w, norm = normalize_poses(c2w)
    torch.testing.assert_close(norm_c2w[0], torch.eye(4, dtype=torch.float64))
    assert norm_c2w[:, :3, 3].norm(dim=-1).max() == pytest.approx(1.0)
    torch.testing.assert_close(norm.invert(norm_c2w), c2w)
    # Points follow the same map back to the world.
    pts = norm_c2w[:, :3, 3][None]
    torch.testing.assert_close(norm.points_to_world(pts)[0], c2w[:, :3, 3])


def test_normalize_poses_is_invariant_to_a_world_similarity():
    c2w, _ = random_cameras(6, torch.Generator().manual_seed(5))
    S = torch.eye(4, dtype=torch.float64)
    S[:3, :3] = random_cameras(1, torch.Generator().manual_seed(6))[0][0, :3, :3]
    S[:3, 3] = torch.tensor([3.0, -1.0, 2.0])
    moved = S @ c2w
    moved[:, :3, 3] *= 2.5  # also rescale the world
    torch.testing.assert_close(normalize_poses(moved)[0], normalize_poses(c2w)[0])


def test_static_clip_keeps_scale_one():
    c2w = torch.eye(4, dtype=torch.float64).repeat(5, 1, 1)
    _, norm = normalize_poses(c2w)
    assert float(norm.scale) == 1.0


def test_latent_grouping_matches_vae_temporal_compression():
    assert num_latent_frames(49) == 13
    assert latent_shape(49, 480, 720) == (16, 13, 60, 90)
    frames = torch.arange(49).view(1, 49, 1)
    g = group_frames(frames)  # (1, 13, 4, 1)
    assert g.shape == (1, 13, 4, 1)
    assert g[0, 0, :, 0].tolist() == [0, 0, 0, 0]
    for k in range(1, 13):  # latent k <- frames 4k-3 .. 4k
        assert g[0, k, :, 0].tolist() == list(range(4 * k - 3, 4 * k + 1))
    assert pad_frames(frames).shape[1] == 52
    assert torch.equal(unpad_frames(pad_frames(frames)), frames)
    with pytest.raises(ValueError):
        num_latent_frames(48)
