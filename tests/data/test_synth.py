"""Synthetic scenes: an exact ray-caster, determinism, variety, sane camera paths, and the CLI writing
datasets that the readers give back exactly."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from wonderland.data import open_scenes
from wonderland.data.raycast import Box, Sphere, Texture, World, render
from wonderland.data.synth import make_synthetic_scene, scene_seed, synthetic_world, write_synthetic_dataset
from wonderland.data.synth_cli import main
from wonderland.geometry import Cameras, make_K


def _flat(rgb) -> Texture:
    return Texture("flat", rgb, rgb)


def test_raycaster_silhouette_and_shading_are_exact():
    n, f = 101, 100.0
    cams = Cameras(torch.eye(4, dtype=torch.float64)[None], make_K(f, f, n / 2, n / 2)[None], n, n)
    sphere = Sphere(torch.tensor([0.0, 0.0, 5.0]), 1.0, _flat((0.3, 0.3, 0.3)))
    world = World([sphere], light=torch.zeros(3), light_range=1e9, ambient=0.5, sky_horizon=(0, 0, 0),
                  sky_zenith=(0, 0, 0))
    img = render(world, cams)[0]  # (3, n, n)
    # A sphere on the optical axis projects to a disc of radius f r / sqrt(z^2 - r^2).
    rho = f * 1.0 / math.sqrt(5.0 ** 2 - 1.0)
    area = (img[0] > 0).sum().item()
    assert abs(area - math.pi * rho ** 2) < 2 * math.pi * rho * 0.5  # within half a pixel along the outline
    # Centre pixel: normal faces the light at the camera, Lambert 1: albedo * (ambient + (1 - ambient) * 1.6).
    assert img[0, 50, 50].item() == pytest.approx(0.3 * (0.5 + 0.5 * 1.6), abs=1e-5)
    # A turned box: every pixel it covers lies inside the bounding rectangle of its projected corners.
    box = Box(torch.tensor([0.5, -0.2, 6.0]), torch.tensor([0.8, 0.5, 0.6]), 0.7, _flat((1.0, 1.0, 1.0)))
    img = render(World([box], torch.zeros(3), 1e9, 1.0, (0, 0, 0), (0, 0, 0)), cams)[0, 0]
    corners = torch.tensor([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * box.half
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    world_corners = corners @ torch.tensor([[c, 0, s], [0, 1, 0], [-s, 0, c]]).T + box.center
    uv, _ = cams.project(world_corners.double()[None])
    rows, cols = (img > 0).nonzero().unbind(-1)
    assert len(rows) > 500
    assert cols.min() + 0.5 >= uv[0, :, 0].min() and cols.max() + 0.5 <= uv[0, :, 0].max()
    assert rows.min() + 0.5 >= uv[0, :, 1].min() and rows.max() + 0.5 <= uv[0, :, 1].max()
    assert (img[rows, cols] == 1.0).all()  # ambient 1: exactly the albedo wherever it is hit


def test_deterministic_and_independent_of_resolution():
    a, ca = make_synthetic_scene(5, 10, 24, 32)
    b, cb = make_synthetic_scene(5, 10, 24, 32)
    assert torch.equal(a, b) and torch.equal(ca.c2w, cb.c2w)
    assert torch.equal(a * 255, (a * 255).round())  # 8-bit values, as written to disk
    _, cc = make_synthetic_scene(5, 10, 48, 64)
    torch.testing.assert_close(cc.c2w, ca.c2w)
    torch.testing.assert_close(cc.K[:, :2], ca.K[:, :2] * 2)


def test_scenes_are_varied():
    kinds, firsts = set(), []
    for seed in range(16):
        world, path, _ = synthetic_world(seed, 49)
        kinds.add((path.family, world.sky_horizon != (0, 0, 0)))  # only open scenes have a sky
        firsts.append(make_synthetic_scene(seed, 1, 24, 32)[0][0])
    assert {f for f, _ in kinds} == {"walk", "pan", "orbit"} and {o for _, o in kinds} == {True, False}
    imgs = torch.stack(firsts).flatten(1)
    dist = (imgs[:, None] - imgs[None]).abs().mean(-1) + torch.eye(16)
    assert dist.min() > 0.04  # no two scenes look alike
    assert imgs.mean(-1).std() > 0.03 and (imgs.std(-1) > 0.05).all()  # varied brightness, textured content


def test_camera_paths_are_sane():
    families = set()
    for seed in range(40):
        world, path, _ = synthetic_world(seed, 49)
        families.add(path.family)
        eyes = path.eyes.float()
        travel = (eyes[1:] - eyes[:-1]).norm(dim=-1).sum().item()
        assert 0.5 <= travel <= 2.3, (seed, path.family, travel)  # 0.5-2 units, plus a walk's sway
        clearance = torch.stack([p.distance(eyes) for p in world.primitives]).amin(0)
        assert clearance.min() > 0.4, (seed, path.family)  # inside the room, clear of every object
        c2w = path.c2w()
        assert (c2w[:, 1, 1] < -0.5).all()  # image down is world down (y-up world): upright views
        assert torch.isfinite(c2w).all()
    assert families == {"walk", "pan", "orbit"}


@pytest.mark.parametrize("fmt,workers", [("re10k", 1), ("dl3dv", 2)])
def test_cli_writes_datasets_the_readers_give_back_exactly(tmp_path, fmt, workers, capsys):
    args = ["--out", str(tmp_path), "--num-scenes", "3", "--frames", "6", "--height", "16", "--width", "24",
            "--seed", "9", "--format", fmt, "--workers", str(workers)]
    assert main(args) == 0
    assert "wrote 3" in capsys.readouterr().out
    scenes = open_scenes(fmt, tmp_path)
    assert scenes.keys == ["synth_00000", "synth_00001", "synth_00002"]
    for i, scene in enumerate(scenes):
        frames, cams = make_synthetic_scene(scene_seed(9, i), 6, 16, 24)
        got, got_cams = scene.load_frames(range(6))
        assert torch.equal(got, frames)
        torch.testing.assert_close(got_cams.c2w, cams.c2w, atol=1e-12, rtol=0)
        torch.testing.assert_close(got_cams.K, cams.K, atol=1e-9, rtol=0)
    assert len({np.asarray(s.load_frames([0])[0]).tobytes() for s in scenes}) == 3
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "--format", "colmap"])


def test_supersampling_is_the_box_filtered_fine_render():
    # supersample=2 at (h, w) is the (2h, 2w) render averaged over 2x2 blocks (up to 8-bit rounding) with
    # the same cameras; it is closer to a much finer render (the anti-aliased truth) than one ray per pixel.
    fine, fine_cams = make_synthetic_scene(3, 4, 48, 64)
    aa, cams = make_synthetic_scene(3, 4, 24, 32, supersample=2)
    plain, plain_cams = make_synthetic_scene(3, 4, 24, 32)
    assert (aa - F.avg_pool2d(fine, 2)).abs().max() <= 1 / 255 + 1e-6
    torch.testing.assert_close(cams.K, plain_cams.K)
    torch.testing.assert_close(cams.K[:, :2], fine_cams.K[:, :2] / 2)
    truth = F.avg_pool2d(make_synthetic_scene(3, 4, 192, 256)[0], 8)
    assert (aa - truth).square().mean() < 0.6 * (plain - truth).square().mean()
    assert torch.equal(aa * 255, (aa * 255).round())


def test_bad_supersample_fails_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="supersample"):
        write_synthetic_dataset(tmp_path / "out", 2, 4, 8, 12, supersample=0)
    assert not (tmp_path / "out").exists()
