"""training.train's data step on ranks other than 0: they wait for rank 0's manifest, and stop with a clear
error after data.generate_wait_s instead of hanging when rank 0 died."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from dreamframe.config import from_dict
from dreamframe.dataset import DatasetError
from tests.conftest import REPO
from training.config import TrainConfig
from training.train import ensure_data, wait_for_manifest


def config(folder, wait_s: float) -> TrainConfig:
    return from_dict(TrainConfig, {"data": {"sources": [{"path": str(folder)}], "generate_wait_s": wait_s,
                                            "generate_config": str(REPO / "configs/data_gen/tiny.yaml")}})


def test_a_waiting_rank_times_out_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    started = time.monotonic()
    with pytest.raises(DatasetError) as err:
        ensure_data(config(tmp_path / "data", 0.3))
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "rank 1" in message and str(tmp_path / "data" / "manifest.json") in message
    assert "generate_wait_s" in message
    assert not (tmp_path / "data").exists()  # a waiting rank never writes


def test_a_waiting_rank_goes_on_once_rank_0_wrote_the_manifest(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    threading.Timer(0.3, (folder / "manifest.json").write_text, args=("{}",)).start()
    wait_for_manifest(folder, timeout_s=30, poll_s=0.05)
    assert (folder / "manifest.json").exists()


def test_the_command_line_names_the_timeout(tmp_path):
    env = {**os.environ, "RANK": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "training.train", "--config", str(REPO / "configs/train/tiny_cpu.yaml"),
                           f'--data.sources=[{{"path": "{tmp_path / "data"}"}}]', "--data.generate_wait_s", "0.2",
                           "--out", str(tmp_path / "out")], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "waited 0.2 s for rank 0" in proc.stderr and "--data.generate_wait_s" in proc.stderr
