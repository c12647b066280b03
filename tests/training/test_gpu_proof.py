"""benchmarks/gpu_proof.py --tiny: the GPU proof's code end to end on CPU in tiny shapes (the GPU run itself
needs a lent machine; docs/training.md "Scale"), and it imports nothing the GPU machine lacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.training.conftest import ROOT

# not on the GPU machine and not carried (jsonargparse is carried as a wheel: training.plan's config needs it)
ABSENT_ON_GPU = ("pydantic", "deepspeed", "datasets", "lm_eval", "av", "wandb", "lightning")


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


def test_real_shape_lvlm_builds_consistently_on_the_meta_device():
    """The GPU-only half of gpu_proof (the 7B config with fewer layers, its special ids moved to the offline
    tokenizer's) on the meta device: the batch's video placeholders match the grid, vision is frozen,
    and the FLOPs and plan figures come out."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_proof

    adapter, model_cfg = gpu_proof.lvlm(ROOT / "configs/train/dreamframe_7b_qwen25vl.yaml", 2, "meta", tiny=False)
    config = adapter.model.config
    assert config.get_text_config().num_hidden_layers == 2 and config.get_text_config().vocab_size == 152064
    assert config.video_token_id == adapter.video_token_id and adapter.spec.size == 448
    batch = adapter.collate(gpu_proof.lvlm_samples(adapter, 2, model_cfg.num_frames))
    t, h, w = batch["video_grid_thw"][0].tolist()
    assert int((batch["input_ids"] == config.video_token_id).sum()) == 2 * t * h * w // 4 == 2 * 2048
    assert all(not p.requires_grad for n, p in adapter.model.named_parameters() if adapter.part_of(n) == "vision")
    answer = int((batch["labels"][:, 1:] != -100).sum()) // 2
    assert gpu_proof.plan_gib(model_cfg, config, 2, batch["input_ids"].shape[1], answer) > 5
    assert gpu_proof.step_flops(adapter, batch) > 6 * 2 * 233e6 * 4000
