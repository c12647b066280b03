"""ZeRO-3 with two CPU ranks where one rank's batch has video and the other's has none at the same step
(DeepSpeed #7170): with the adapter's guard the ranks run the same collective sequence and train; without
it the ranks' parameter gathers diverge and the job dies (gloo: "collective mismatch") or hangs. Each run
is a subprocess group with a deadline, so a hang fails the test instead of stalling the suite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.training.conftest import ROOT

pytest.importorskip("deepspeed")
WORKER = ROOT / "tests" / "training" / "zero3_mixed_worker.py"
DEADLINE_S = 420


def run_worker(out, guard: str) -> tuple[int | None, str]:
    """(exit code, or None when killed at the deadline; the output's tail)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, str(WORKER), "--out", str(out), "--guard", guard], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        text, _ = proc.communicate(timeout=DEADLINE_S)
        return proc.returncode, text[-4000:]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # rank 1 is rank 0's child: end the whole group
        text, _ = proc.communicate()
        return None, text[-4000:]


@pytest.mark.slow
def test_text_only_rank_beside_video_rank_trains_with_the_guard(tmp_path):
    code, tail = run_worker(tmp_path, "on")
    assert code == 0, tail
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["steps"] for r in ranks] == [3, 3]
    assert all(len(r["losses"]) == 3 and all(v == v for v in r["losses"]) for r in ranks)
    assert ranks[0]["losses"][2] == ranks[1]["losses"][2]  # step 3: same batch on both ranks, same weights


@pytest.mark.slow
def test_without_the_guard_the_ranks_diverge(tmp_path):
    code, tail = run_worker(tmp_path, "off")
    assert code != 0, "two ranks trained although one ran the vision tower and the other did not"
    assert not (tmp_path / "rank0.json").exists()
    assert code is None or "mismatch" in tail or "Connection reset" in tail or "Connection closed" in tail, tail
