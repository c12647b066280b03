"""`python -m training.train` as users run it: DDP with 2 CPU processes; bad input. Killed with SIGKILL
and rerun with the same command (same checkpoint, loss curve and weights as an uninterrupted run):
tests/e2e/test_kill_anywhere.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.training.conftest import ROOT, tiny_overrides

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT)}


def train_cmd(data: Path, out: Path, **extra: object) -> list[str]:
    return [sys.executable, "-m", "training.train", *tiny_overrides(data, out, **extra)]


def test_ddp_two_cpu_processes(tiny_data, tmp_path):
    out = tmp_path / "ddp"
    got = subprocess.run(train_cmd(tiny_data, out, **{"strategy.name": "ddp", "devices": 2, "max_steps": 3,
                                                       "strategy.find_unused_parameters": "true"}),
                         cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, got.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["global_step"] == 3
    assert summary["export"]["max_abs_logit_diff_after_reload"] < 1e-5
    assert summary["throughput"]["samples_per_s"] > 0


def test_bad_input_is_named(tmp_path, capsys):
    from training.train import main

    assert main(["--config", str(ROOT / "configs/train/tiny_cpu.yaml"), f"--out={tmp_path / 'o'}",
                 f'--data.sources=[{{"path": "{tmp_path / "nowhere"}"}}]', "--data.generate_config=null"]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "data_gen.generate" in err
    with pytest.raises(SystemExit):
        main(["--optim.nope=1"])
    assert "nope" in capsys.readouterr().err
