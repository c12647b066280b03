"""benchmarks/gpu_proof.py --tiny: the GPU proof's code end to end on CPU in tiny shapes (the GPU run itself
needs a lent machine; docs/training.md "Scale"), and it imports nothing the GPU machine lacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.training.conftest import ROOT

ABSENT_ON_GPU = ("jsonargparse", "pydantic", "deepspeed", "datasets", "lm_eval", "av", "wandb", "lightning")


@pytest.mark.slow
def test_gpu_proof_tiny_runs_every_measurement(tmp_path):
    code = (f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import gpu_proof; "
            f"gpu_proof.main(['--tiny', '--out', {str(tmp_path)!r}]); "
            f"print('IMPORTED', [m for m in {ABSENT_ON_GPU!r} if m in sys.modules])")
    got = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1",
                              "OMP_NUM_THREADS": "1", "HOME": str(tmp_path)})
    assert got.returncode == 0, got.stderr[-3000:]
    assert "IMPORTED []" in got.stdout, got.stdout[-2000:]
    res = json.loads((tmp_path / "gpu_proof.json").read_text())
    assert res["gemm_peak_tflops"] > 0
    (layers, row), = res["lvlm"].items()
    assert row["tokens_per_s"] > 0 and 0 < row["mfu"] < 1 and row["plan_gib"] > 0 and row["answer_tokens"] > 0
    assert res["generation"]["same_answers"] == res["generation"]["batch"] == 8
    assert res["sdxl_paper"]["refiner"] and not res["sdxl_fast"]["refiner"]
    assert res["sdxl_paper"]["seconds_per_keyframe"] > 0 and res["sdxl_fast"]["scheduler"] == "lcm"
    assert res["style_immobilization"]["mode"] == "keyword" and res["style_immobilization"]["seconds_per_step"] > 0
    for name in ("LVLM train", "eval generation, batch 8 vs 1", "SDXL keyframe, paper preset",
                 "Style Immobilization optimizer step"):
        assert name in got.stdout
