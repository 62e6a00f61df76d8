"""A family's pose stream (manifest key "pose_stream") and `wonderland-generate --trajectory auto` on a tiny family.

- the component round-trips: `attach_pose_stream` copies it in, `from_pretrained` loads the same weights; one that
  was built for another video model is refused in one line naming the key;
- with a user trajectory a family with a pose stream gives exactly what the same family without it gives;
- `generate_auto` = the video pipeline's pose-free joint sample + the LaLRM at its cameras (two paths agree);
- the CLI writes cameras.json (the generated path, drawn by `wonderland-trajectory show`) and a report that says the
  path was generated with its ray-fit residuals; --frames / --pose-schedule without auto, or --frames other than
  the model's clip, are refused in one line.
"""

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from camera_video.models import PoseStream, PoseStreamConfig
from wonderland.errors import InputError
from wonderland.pipeline import WonderlandPipeline
from wonderland.pipeline.pose import attach_pose_stream
from wonderland.trajectories import load_trajectory, make_preset
from wonderland.trajectories.cli import main as trajectory_cli

from .conftest import H, W, run

POSE = PoseStreamConfig(hidden=32, patch=2, heads=2, blocks=3, comm_every=1, comm_dim=16, comm_heads=2)


def stream_for(base_config, seed=0) -> PoseStream:
    """A pose stream whose communication outputs are non-zero (a stand-in for a trained one)."""
    torch.manual_seed(seed)
    stream = PoseStream.for_video(base_config, POSE)
    with torch.no_grad():
        for name, p in stream.named_parameters():
            if "_out." in name:
                p.copy_(torch.randn_like(p) * 0.05)
    return stream


@pytest.fixture(scope="module")
def families(tiny_family, tmp_path_factory):
    from camera_video.models import load_base

    root = tmp_path_factory.mktemp("posefam")
    plain = root / "plain"
    shutil.copytree(tiny_family, plain)
    with_pose = root / "with_pose"
    shutil.copytree(tiny_family, with_pose)
    stream = stream_for(load_base(tiny_family / "base").config)
    stream.save_pretrained(root / "component")
    attach_pose_stream(with_pose, root / "component")
    return plain, with_pose, stream


@pytest.fixture(scope="module")
def pipes(families):
    plain, with_pose, _ = families
    return WonderlandPipeline.from_pretrained(plain), WonderlandPipeline.from_pretrained(with_pose)


def test_component_round_trip_and_misfit_refused(families, pipes, tmp_path):
    plain, with_pose, stream = families
    assert json.loads((with_pose / "wonderland.json").read_text())["pose_stream"] == "pose_stream"
    assert "pose_stream" not in json.loads((plain / "wonderland.json").read_text())
    loaded = pipes[1].video_pipe.transformer.pose_stream
    assert pipes[1].has_pose_stream and not pipes[0].has_pose_stream
    want = stream.state_dict()
    assert all(torch.equal(v, want[k]) for k, v in loaded.state_dict().items()) and len(want) == len(
        loaded.state_dict())
    # a stream for a 4-block video model does not fit the tiny family's 2 blocks
    other = PoseStream(64, 16, 4, 16, **POSE.to_dict())
    other.save_pretrained(tmp_path / "other")
    with pytest.raises(InputError, match="video_blocks.*got 4"):
        attach_pose_stream(plain, tmp_path / "other")
    assert "pose_stream" not in json.loads((plain / "wonderland.json").read_text())


def test_user_trajectory_is_unchanged_by_the_pose_stream(pipes):
    image = torch.rand(3, H, W, generator=torch.Generator().manual_seed(0))
    traj = make_preset("orbit", num_frames=49, height=H, width=W)
    a, b = (p(image, traj, seed=3) for p in pipes)
    assert torch.equal(a.latents, b.latents) and torch.equal(a.gaussians.means, b.gaussians.means)


def test_generate_auto_is_the_joint_sample_reconstructed_at_its_cameras(pipes):
    pipe = pipes[1]
    image = torch.rand(3, H, W, generator=torch.Generator().manual_seed(1))
    res = pipe.generate_auto(image, seed=4)
    out = pipe.video_pipe(image[None], None, prompt_embeds=pipe.prompt_embeds["prompt_embeds"],
                          negative_prompt_embeds=pipe.prompt_embeds["negative_prompt_embeds"],
                          num_inference_steps=2, guidance_scale=2.0, generator=torch.Generator().manual_seed(4),
                          pose="async")
    assert torch.equal(res.latents, out.latents[0].float().cpu())
    torch.testing.assert_close(res.cameras.c2w, out.cameras.c2w[0].float())
    assert res.pose_source == "generated" and res.cameras.shape == (49,)
    assert torch.equal(res.gaussians.means, pipe.reconstruct(res.latents, res.cameras).means)
    assert res.sampler["pose"]["generated"] and len(res.sampler["pose"]["ray_fit_residual"]) == 13
    assert torch.allclose(res.cameras.c2w[0], torch.eye(4), atol=1e-5)  # normalised: frame 0 = identity



def test_cli_trajectory_auto_writes_the_generated_path(families, tmp_path, capsys):
    plain, with_pose, _ = families
    Image.fromarray(np.full((32, 48, 3), 90, np.uint8)).save(tmp_path / "im.png")
    out = tmp_path / "out"
    assert run([str(tmp_path / "im.png"), "--trajectory", "auto", "--frames", "49", "--model", str(with_pose),
                "--out", str(out), "--quiet"], capsys)[0] == 0
    report = json.loads((out / "report.json").read_text())
    assert report["pose_source"] == "generated" and report["sampler"]["pose"]["generated"] is True
    assert report["sampler"]["pose"]["mode"] == "async" and report["settings"]["trajectory"] == "auto"
    assert report["sampler"]["pose"]["ray_fit_residual_max"] >= report["sampler"]["pose"]["ray_fit_residual_mean"]
    cams = load_trajectory(out / "cameras.json")
    assert len(cams) == 49 and torch.isfinite(cams.c2w).all()
    assert trajectory_cli(["show", str(out / "cameras.json"), "--out", str(tmp_path / "path.png")]) == 0
    assert Image.open(tmp_path / "path.png").size[0] > 100
    # refusals, one line each, nothing written
    for argv, words in ((["--trajectory", "auto", "--frames", "25", "--model", str(with_pose)], "--frames 25"),
                        (["--preset", "orbit", "--pose-schedule", "sync", "--model", str(with_pose)],
                         "--pose-schedule sync: goes"),
                        (["--trajectory", "auto", "--model", str(plain)], "has no pose stream")):
        code, err = run([str(tmp_path / "im.png"), *argv, "--out", str(tmp_path / "no")], capsys)
        assert code == 2 and len(err) == 1 and words in err[0], err
        assert not (tmp_path / "no").exists()
