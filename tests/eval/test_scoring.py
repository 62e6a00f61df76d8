"""Per-clip protocol scores: image metrics per frame, SfM camera scores, both storable in the log."""

import json
import math

import pytest
import torch

from wonderland.eval import ResultsLog, read_results
from wonderland.eval.scoring import camera_scores, image_scores
from wonderland.metrics import load_lpips, ssim
from wonderland.testing import room_clip


def test_image_scores_per_frame_and_chunked_lpips(rng):
    target = torch.rand(5, 3, 48, 64, generator=rng)
    pred = target.clone()
    pred[1] = (pred[1] + 0.1).clamp(0, 1)
    pred[3] = torch.rand(3, 48, 64, generator=rng)
    with pytest.warns(UserWarning, match="RANDOM"):
        lpips = load_lpips("alex", allow_random=True)
    scores = image_scores(pred, target, lpips, batch_size=2)
    assert scores["per_frame_psnr"][0] == pytest.approx(100.0)  # identical frames hit the MSE floor
    assert scores["psnr"] == pytest.approx(sum(scores["per_frame_psnr"]) / 5)
    assert scores["per_frame_ssim"][3] == pytest.approx(ssim(pred[3], target[3]).item(), abs=1e-6)
    assert scores["per_frame_lpips"][0] == pytest.approx(0.0, abs=1e-6)
    torch.testing.assert_close(torch.tensor(scores["per_frame_lpips"]), lpips(pred, target), rtol=1e-4, atol=1e-6)
    assert scores["per_frame_lpips"][3] > scores["per_frame_lpips"][1] > 0
    no_lpips = image_scores(pred, target)
    assert no_lpips["lpips"] is None and "per_frame_lpips" not in no_lpips


def test_camera_scores_on_a_rendered_clip_round_trip_through_the_log(tmp_path):
    frames, c2w, K = room_clip(num_frames=8)
    extra = torch.zeros(2, *frames.shape[1:])  # frames past the scored window are ignored
    scores = camera_scores(torch.cat([frames, extra]), torch.cat([c2w, c2w[:2]]), K, num_frames=8,
                           workdir=tmp_path / "sfm")
    assert scores["num_frames"] == 8 and scores["num_unregistered"] == 0 and all(scores["registered"])
    assert scores["rot_err"] < 0.03 and scores["trans_err"] < 0.1  # measured 0.010 / 0.031
    log = ResultsLog(tmp_path / "out")
    log.append({"clip_id": "room", "dataset": "synthetic", "metrics": scores})
    stored = read_results(tmp_path / "out")[0]["metrics"]
    assert stored["rot_err"] == pytest.approx(scores["rot_err"])
    est = torch.tensor(stored["est_c2w"])
    assert est.shape == (8, 4, 4) and torch.allclose(est, torch.tensor(scores["est_c2w"]))
    json.dumps(stored, allow_nan=False)
    assert math.isfinite(stored["trans_err"])
