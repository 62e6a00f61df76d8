"""scripts/gpu_check.py rehearsed on the CPU (`--device cpu --tiny`): the same code the H200 runs, at test size.

What can be checked without a GPU: every section runs end to end, the numbers it derives are the analytic
ones (FLOPs from the configs, TFLOP/s = FLOPs / time), CUDA-only checks say why they were skipped, and the
JSON is complete. The GPU numbers themselves are measured when a GPU is available (README).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lalrm.sizes import describe_stage, transformer_flops

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu_check.py"


def run(tmp_path, *args) -> tuple[int, dict, str]:
    out = tmp_path / "check.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=900, env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "2",
                                                        "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    return proc.returncode, json.loads(out.read_text()) if out.exists() else {}, proc.stderr


def test_rehearsal_of_the_model_checks_derives_the_analytic_numbers(tmp_path):
    code, report, err = run(tmp_path, "--device", "cpu", "--tiny", "--only", "lalrm", "denoise_step")
    assert code == 0, err
    assert report["size"] == "tiny" and "render_parity" not in report and report["within_budget"]
    lalrm = report["lalrm"]
    info = describe_stage(dict(width=64, depth=2, num_heads=4, patch_size=2, head_stride=8), 9, 32, 48)
    flops = transformer_flops(info["tokens"], 64, 2)
    assert lalrm["tokens"] == info["tokens"] == 3 * 2 * 3 and lalrm["gaussians"] == info["gaussians"]
    assert lalrm["forward_tflop"] == pytest.approx(flops / 1e12)
    for mode, passes in (("off", 3), ("on", 4)):  # forward + backward (+ the recomputed forward)
        seconds = lalrm[f"checkpointing_{mode}_step_seconds"]
        assert lalrm[f"checkpointing_{mode}_achieved_tflops"] == pytest.approx(passes * flops / seconds / 1e12)
        assert lalrm[f"checkpointing_{mode}_peak_gib"] > 0
    step = report["denoise_step"]
    a, b = step["with_control"], step["without_control"]
    assert (a["blocks"], b["blocks"]) == (3, 2) and a["tokens"] == b["tokens"] == 13 * 2 * 3 + 8
    assert a["tflop"] / b["tflop"] == pytest.approx(3 / 2)  # FLOPs scale with the blocks run
    assert step["time_ratio_with_over_without"] == pytest.approx(a["step_seconds"] / b["step_seconds"])


@pytest.mark.slow  # the product run decodes 49 frames: ~1 min on 2 cores
def test_full_rehearsal_runs_every_section_and_skips_cuda_only_ones_with_a_reason(tmp_path):
    code, report, err = run(tmp_path, "--device", "cpu", "--tiny")
    assert code == 0, err
    assert "gsplat" in report["render_parity"]["skipped"]
    assert report["offload"]["model"]["skipped"] == report["offload"]["sequential"]["skipped"] == \
        "offloading needs a CUDA device"
    none = report["offload"]["none"]
    assert none["gaussians"] == 49 * 16 * 24 and none["peak_gib"] > 0 and set(none["stage_peak_gib"]) == {
        "video", "reconstruct"}


def test_cuda_requested_without_a_gpu_is_refused(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: the refusal cannot happen here")
    code, report, err = run(tmp_path)
    assert code == 2 and "no CUDA device" in err and report == {}
