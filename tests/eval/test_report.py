"""Summary statistics, the paper-beside-ours markdown table, and the evaluation plots."""

import json

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from wonderland.eval import markdown_table, plot_camera_paths, plot_per_frame_psnr, summarize, write_report
from wonderland.eval.plots import per_frame_curve
from wonderland.geometry import look_at


def records():
    return [
        {"clip_id": "r0", "dataset": "re10k", "metrics": {"psnr": 20.0, "ssim": 0.5, "lpips": 0.2, "rot_err": 0.04,
                                                          "trans_err": 0.1, "num_unregistered": 0,
                                                          "per_frame_psnr": [22.0, 20.0, 18.0]}},
        {"clip_id": "r1", "dataset": "re10k", "metrics": {"psnr": 22.0, "ssim": 0.7, "lpips": None, "rot_err": 0.06,
                                                          "trans_err": 0.3, "num_unregistered": 2,
                                                          "per_frame_psnr": [24.0, 20.0]}},
        {"clip_id": "t0", "dataset": "tanks", "metrics": {"psnr": 15.0, "ssim": 0.4, "lpips": 0.5, "rot_err": 0.2,
                                                          "trans_err": 0.4, "num_unregistered": 0}},
    ]


def test_summary_statistics_and_missing_values():
    s = summarize("video", records(), {"re10k": {"fid": (17.5, None), "fvd": (None, "no I3D weights file")}})
    re = s["datasets"]["re10k"]
    assert re["num_clips"] == 2
    assert re["metrics"]["psnr"] == {"mean": 21.0, "std": 1.0, "count": 2, "missing": 0}
    assert re["metrics"]["lpips"]["mean"] == pytest.approx(0.2) and re["metrics"]["lpips"]["missing"] == 1
    assert re["metrics"]["fid"]["mean"] == 17.5 and re["unavailable"] == {"fvd": "no I3D weights file"}
    assert re["camera"] == {"unregistered_frames": 2, "clips_with_unregistered": 1}
    assert "per_frame_psnr" not in re["metrics"]
    assert list(s["datasets"]) == ["re10k", "tanks"] and s["num_clips"] == 3
    with pytest.raises(ValueError, match="unknown task"):
        summarize("nope", [])


def test_markdown_table_puts_paper_row_beside_ours(tmp_path):
    s = summarize("video", records(), {"re10k": {"fid": (17.5, None), "fvd": (None, "no I3D weights file")}})
    table = markdown_table(s)
    lines = table.splitlines()
    assert lines[0] == ("| Dataset | Method | FID ↓ | FVD ↓ | RotErr ↓ | TransErr ↓ | LPIPS ↓ | PSNR ↑ | SSIM ↑ |")
    assert lines[2] == "| RealEstate10K | Wonderland (paper) | 16.16 | 153.48 | 0.046 | 0.093 | 0.206 | 19.71 | 0.557 |"
    assert lines[3] == "| RealEstate10K | ours (n=2) | 17.50 | n/a | 0.050 | 0.200 | 0.200 | 21.00 | 0.600 |"
    # No paper numbers for Tanks video: only our row.
    assert lines[4] == "| Tanks and Temples | ours (n=1) | – | – | 0.200 | 0.400 | 0.500 | 15.00 | 0.400 |"
    assert "- RealEstate10K FVD: no I3D weights file" in table
    assert "RealEstate10K: SfM left 2 frame(s) unregistered in 1 clip(s)" in table
    write_report(tmp_path, s)
    assert json.loads((tmp_path / "summary.json").read_text())["paper"]["re10k"]["fvd"] == 153.48
    assert table in (tmp_path / "table.md").read_text()


def test_3d_table_has_the_papers_per_dataset_numbers():
    recs = [{"clip_id": "d", "dataset": "dl3dv", "metrics": {"psnr": 16.0, "ssim": 0.5, "lpips": 0.3}}]
    lines = markdown_table(summarize("3d", recs)).splitlines()
    assert lines[2] == "| DL3DV | Wonderland (paper) | – | 16.64 | – |"
    assert lines[3] == "| DL3DV | ours (n=1) | 0.300 | 16.00 | 0.500 |"


def test_per_frame_curve_handles_ragged_clips():
    x, mean, std = per_frame_curve([[22.0, 20.0, 18.0], [24.0, 20.0], [None, 23.0]])
    np.testing.assert_allclose(mean, [23.0, 21.0, 18.0])
    np.testing.assert_allclose(std, [1.0, np.std([20.0, 20.0, 23.0]), 0.0])
    assert list(x) == [0, 1, 2]


def test_plots_write_pngs(tmp_path):
    plot_per_frame_psnr(records(), tmp_path / "psnr.png")
    angles = torch.linspace(0, 1, 8)
    eyes = torch.stack([torch.sin(angles), 0.1 * angles, -torch.cos(angles)], -1)
    gt = look_at(eyes, torch.zeros(8, 3))
    est = gt.clone()
    est[:, :3, 3] = est[:, :3, 3] * 3 + 1  # another scale and origin: drawn on top of the given path
    registered = torch.ones(8, dtype=torch.bool)
    registered[0] = registered[5] = False
    plot_camera_paths(est, gt, tmp_path / "path.png", registered, title="clip r0")
    for name in ("psnr.png", "path.png"):
        img = iio.imread(tmp_path / name)
        assert img.ndim == 3 and img.shape[0] > 300 and img.std() > 10  # a real drawing, not a blank canvas
