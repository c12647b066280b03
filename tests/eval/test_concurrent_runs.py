"""Two `eval.run` of one model into one --out keep both results (issue 27, problem 1): the eval array of
docs/slurm.md (each array task scores a share of the tasks) and the pipeline's parallel eval stages.
Real runs of the tiny model, real lm-eval, the real leaderboard."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from dreamframe.claims import host_name
from eval.publish import STAGING_DIRNAME, STALE_AFTER_S, sweep

REPO = Path(__file__).parents[2]
HOOK = REPO / "tests" / "e2e" / "diehook"
TASKS = ("dreamframe_heldout_closed", "dreamframe_heldout_free")
PAUSE_AFTER_STAGING = "lm_eval.loggers.evaluation_tracker:EvaluationTracker.save_results_aggregated@1@stop"


def _cmd(out: Path, task: str, data: Path) -> list[str]:
    return [sys.executable, "-m", "eval.run", "--model", "tiny-llava_onevision", "--tasks", task,
            "--data-root", str(data), "--out", str(out), "--batch-size", "4", "--max-new-tokens", "4",
            "--num-frames", "2", "--limit", "4", "--threads", "1", "--progress", "false", "--bootstrap-iters", "0"]


def _start(cmd: list[str], log: Path, pause: bool = False) -> subprocess.Popen:
    """A run writing to a file (a pipe nobody reads while it is stopped could block it instead)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    if pause:
        env.update(PYTHONPATH=f"{HOOK}{os.pathsep}{REPO}", DREAMFRAME_TEST_DIE_AT=PAUSE_AFTER_STAGING)
    with log.open("w") as fh:
        return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT)


def _printed_results(log: Path) -> Path:
    found = re.findall(r"^results: (.+)$", log.read_text(), re.M)
    assert len(found) == 1, log.read_text()[-3000:]
    return Path(found[0])


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _board_tasks(out: Path, board: Path) -> set[str]:
    from eval.leaderboard import main as leaderboard

    assert leaderboard([str(out), "--out", str(board), "--published", "none", "--bootstrap", "0"]) == 0
    with (board / "leaderboard.csv").open() as fh:
        return {row["task"] for row in csv.DictReader(fh) if row["model"] == "tiny-llava_onevision"}


def _check_both_kept(out: Path, logs: list[Path], tmp_path: Path) -> None:
    paths = [_printed_results(log) for log in logs]
    assert paths[0] != paths[1], "each run prints its own results file"
    for path, task in zip(paths, TASKS):
        assert path.is_file() and path.parent == out / "tiny-llava_onevision"
        assert list(json.loads(path.read_text())["results"]) == [task]
        stamp = path.stem[len("results_"):]
        assert (path.parent / f"samples_{task}_{stamp}.jsonl").is_file()
    assert not any((out / STAGING_DIRNAME).iterdir()), "each run removes its own staging folder"
    assert _board_tasks(out, tmp_path / "board") >= set(TASKS), "the leaderboard shows every task"


def test_a_run_paused_after_staging_keeps_its_results(tmp_path, heldout_root):
    """Run A stops right after lm-eval staged its results file; run B of the same model runs from start
    to end meanwhile; then A goes on. With one staging folder per model B emptied A's (A then printed B's
    file, and A's task vanished from the leaderboard) - every time, not by chance."""
    out = tmp_path / "out"
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    a = _start(_cmd(out, TASKS[0], heldout_root), logs[0], pause=True)
    deadline = time.time() + 600
    while a.poll() is None and _state(a.pid) != "T" and time.time() < deadline:
        time.sleep(0.05)
    assert a.poll() is None and _state(a.pid) == "T", logs[0].read_text()[-3000:]
    assert list((out / STAGING_DIRNAME).rglob("results_*.json")), "A has staged its results"
    b = _start(_cmd(out, TASKS[1], heldout_root), logs[1])
    assert b.wait(timeout=600) == 0, logs[1].read_text()[-3000:]
    os.kill(a.pid, signal.SIGCONT)
    assert a.wait(timeout=600) == 0, logs[0].read_text()[-3000:]
    _check_both_kept(out, logs, tmp_path)


def test_free_running_runs_of_one_model_keep_both_results(tmp_path, heldout_root):
    """The eval array: two array tasks, one task each, started a moment apart into one --out."""
    out = tmp_path / "out"
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    a = _start(_cmd(out, TASKS[0], heldout_root), logs[0])
    time.sleep(0.5)
    b = _start(_cmd(out, TASKS[1], heldout_root), logs[1])
    assert b.wait(timeout=600) == 0, logs[1].read_text()[-3000:]
    assert a.wait(timeout=600) == 0, logs[0].read_text()[-3000:]
    _check_both_kept(out, logs, tmp_path)


def test_staging_folders_of_runs_that_are_gone_are_swept(tmp_path):
    """A killed run leaves `<out>/.staging/<host>-<pid>-<token>`: the next run removes it when that process
    is gone (this machine) or the folder is older than any staging (another machine, the old layout);
    a live run's folder stays."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    root = tmp_path / STAGING_DIRNAME
    old = time.time() - STALE_AFTER_S - 60
    folders = {"dead": f"{host_name()}-{dead.pid}-0123abcd", "live": f"{host_name()}-{os.getpid()}-89abcdef",
               "other_host": "elsewhere.example-4242-00aa11bb", "other_host_old": "elsewhere.example-4243-00aa11bc",
               "old_layout": "tiny-llava_onevision", "old_layout_old": "tiny-blind"}
    for name in folders.values():
        (root / name / "m").mkdir(parents=True)
        (root / name / "m" / "results_2026-01-01T00-00-00.json").write_text("{}")
    for key in ("other_host_old", "old_layout_old"):
        os.utime(root / folders[key], (old, old))
    removed = {p.name for p in sweep(root)}
    assert removed == {folders[k] for k in ("dead", "other_host_old", "old_layout_old")}
    assert {p.name for p in root.iterdir()} == {folders[k] for k in ("live", "other_host", "old_layout")}
