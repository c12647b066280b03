"""`python -m training.train` as users run it: killed with SIGKILL and rerun with the same command, it
resumes at the same global step with the same loss curve; DDP with 2 CPU processes; bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.training.conftest import ROOT, tiny_overrides

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT)}


def train_cmd(data: Path, out: Path, **extra: object) -> list[str]:
    return [sys.executable, "-m", "training.train", *tiny_overrides(data, out, **extra)]


def losses(out: Path) -> dict[int, float]:
    rows = [json.loads(line) for line in (out / "loss.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows}


def test_sigkill_then_same_command_resumes(tiny_data, tmp_path):
    extra = {"max_steps": 10, "checkpoint_every_n_steps": 3, "export": "false"}
    ref = subprocess.Popen(train_cmd(tiny_data, tmp_path / "ref", **extra), cwd=ROOT, env=ENV,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed_cmd = train_cmd(tiny_data, tmp_path / "run", **extra)
    proc = subprocess.Popen(killed_cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = tmp_path / "run" / "loss.jsonl"
    deadline = time.time() + 240
    # kill once step 7 is logged: the step-6 checkpoint is then completely written
    while proc.poll() is None and time.time() < deadline and not (log.exists() and '"step": 7,' in log.read_text()):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = [json.loads(x)["step"] for x in log.read_text().splitlines()]
    assert 7 <= max(done) < 10, f"killed at the wrong time (last step {max(done)})"
    ckpt = max((tmp_path / "run" / "checkpoints").glob("*.ckpt"))
    again = subprocess.run(killed_cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"resuming from {ckpt}" in again.stdout
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["global_step"] == 10
    assert ref.wait(timeout=300) == 0
    a, b = losses(tmp_path / "ref"), losses(tmp_path / "run")
    assert sorted(a) == sorted(b) == list(range(1, 11))
    assert [b[s] for s in a] == pytest.approx([a[s] for s in a], rel=1e-4, abs=1e-5)


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
