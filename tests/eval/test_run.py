"""`python -m eval.run` end to end on the tiny LLaVA-OneVision: real lm-eval, real videos, real cache."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dreamframe.claims import host_name
from dreamframe.dataset import DatasetFolder
from eval.publish import STAGING_DIRNAME
from eval.results import RunRecord
from eval.run import main

REPO = Path(__file__).parents[2]
CONTRACT_KEYS = {"model", "base_model", "model_fingerprint", "source", "packages", "config", "tasks", "groups",
                 "format_version"}


def _path(out: Path) -> Path:
    files = sorted((out / "tiny-llava_onevision").glob("results_*.json"))
    assert files, f"no results in {out}"
    return files[-1]


def _results(out: Path) -> dict:
    return json.loads(_path(out).read_text())


def test_end_to_end_errors_counted_and_resume_from_cache(tmp_path, broken_mvbench, heldout_root):
    out = tmp_path / "out"
    argv = ["--model", "tiny-llava_onevision", "--tasks", "mvbench,dreamframe_heldout",
            "--data-dirs", json.dumps({"mvbench": str(broken_mvbench), "dreamframe_heldout": str(heldout_root)}),
            "--out", str(out), "--batch-size", "8", "--max-new-tokens", "4", "--threads", "1",
            "--progress", "false", "--bootstrap-iters", "0"]
    assert main(argv) == 0
    res = _results(out)
    for key in ("results", "groups", "configs", "config", "n-samples"):
        assert key in res
    df = res["dreamframe"]
    assert CONTRACT_KEYS <= set(df) and df["format_version"] == 2
    assert len(df["model_fingerprint"]) == 16
    assert df["packages"]["lm_eval"] and df["packages"]["torch"]
    tasks = df["tasks"]
    assert tasks["mvbench_action_sequence"]["clip"] == {"num_frames": 16, "rule": "videochat2", "to_model": 16}
    assert tasks["dreamframe_heldout_closed"]["clip"]["num_frames"] == 8
    # what the adapter was handed (adapters resample to their own num_frames unless told otherwise)
    assert tasks["dreamframe_heldout_open"]["clip"]["to_model"] == 8
    assert tasks["dreamframe_heldout_open"]["judge"]["comparable_to_published"] is False
    assert tasks["dreamframe_heldout_open"]["verdicts"] == "judge_reports/dreamframe_heldout_open.json"
    # the question whose video is absent is skipped and counted: its task has none left, the group is partial
    assert "mvbench_action_antonym" not in tasks and RunRecord.read(_path(out)).partial is True
    assert df["groups"]["mvbench"]["partial"] is True
    assert df["groups"]["mvbench"]["missing"] == {
        "questions": 1, "videos": 1, "tasks": {"mvbench_action_antonym": "all 1 question(s) skipped, 1 video(s) missing"}}
    assert df["groups"]["dreamframe_heldout"]["partial"] is False
    assert tasks["mvbench_object_shuffle"]["errors"] == {"missing_video": 0, "skipped_questions": 0, "unreadable": 1,
                                                         "judge_unparsable": 0}
    assert sum(t["errors"]["missing_video"] + t["errors"]["unreadable"] for t in tasks.values()) == 1
    assert df["answers"]["answer_prefix_applied"] is True
    num_docs = {t: rec["num_docs"] for t, rec in tasks.items()}
    n_docs = sum(num_docs.values())
    heldout = {t: n for t, n in num_docs.items() if t.startswith("dreamframe_heldout")}
    closed = sum(len(r["options"]) > 0 for r in DatasetFolder(heldout_root).load_qa("test"))
    assert n_docs == 19 + sum(heldout.values())
    assert heldout["dreamframe_heldout_closed"] == heldout["dreamframe_heldout_free"] == closed
    options = sum(len(r["options"]) for r in DatasetFolder(heldout_root).load_qa("test"))
    generated = n_docs - heldout["dreamframe_heldout_closed"]  # closed questions are scored by likelihood
    assert df["answers"]["generated"] == generated - 1 and df["answers"]["options_scored"] == options
    assert df["answers"]["from_cache"] == 0
    assert 0.0 <= res["groups"]["mvbench"]["acc,none"] <= 100.0
    assert res["groups"]["mvbench"]["alias"] == "mvbench (partial: 19 of 20 tasks, 1 question(s) skipped, 1 video(s) missing)"
    # per-sample JSONL for every task, with the metric value of each sample
    for task in num_docs:
        files = list((out / "tiny-llava_onevision").glob(f"samples_{task}_*.jsonl"))
        rows = [json.loads(line) for line in files[0].read_text().splitlines()]
        metric = "free_acc" if task == "dreamframe_heldout_free" else "acc"
        assert len(rows) == num_docs[task] and all(metric in r for r in rows)

    # same command again: every readable answer comes from the cache, errors are counted again
    assert main(argv) == 0
    again = _results(out)["dreamframe"]
    assert again["answers"]["generated"] == again["answers"]["options_scored"] == 0
    assert again["answers"]["from_cache"] == generated - 1 + options
    assert {t: r["errors"] for t, r in again["tasks"].items()} == {t: r["errors"] for t, r in tasks.items()}
    assert _results(out)["results"] == res["results"]


def test_killed_run_resumes(tmp_path, heldout_root):
    out = tmp_path / "out"
    args = ["--model", "tiny-llava_onevision", "--tasks", "dreamframe_heldout_free", "--data-root", str(heldout_root),
            "--out", str(out), "--batch-size", "1", "--max-new-tokens", "32", "--threads", "1",
            "--limit", "8", "--progress", "false", "--bootstrap-iters", "0"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "eval.run", *args], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    cache_files: list[Path] = []
    while time.time() < deadline and proc.poll() is None:
        cache_files = list(out.glob("*/cache/*/answers/dreamframe_heldout_free.jsonl"))
        if cache_files and cache_files[0].read_text().count('"key"') >= 1:
            break
        time.sleep(0.02)
    assert proc.poll() is None, f"run finished before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = cache_files[0].read_text().count('"key"')
    assert 1 <= done_before < 8
    assert not list(out.glob("*/results_*.json"))

    assert main(args) == 0
    df = _results(out)["dreamframe"]
    assert df["answers"]["from_cache"] >= done_before
    assert df["answers"]["from_cache"] + df["answers"]["generated"] == 8


def test_saving_leaves_another_models_staged_results_alone(tmp_path, heldout_root):
    """The pipeline scores tuned and blind into one --out at once. With one shared staging folder, the run
    that saved first emptied it and the other lost its results (seen on a 2-core pipeline run)."""
    out = tmp_path / "out"
    other = out / STAGING_DIRNAME / f"{host_name()}-{os.getpid()}-0123abcd" / "tiny-blind"  # a live run's
    other.mkdir(parents=True)
    (other / "results_2026-01-01T00-00-00.json").write_text("{}")  # the other run, between lm-eval's write and publish
    assert main(["--model", "tiny-llava_onevision", "--tasks", "dreamframe_heldout_free", "--data-root",
                 str(heldout_root), "--out", str(out), "--batch-size", "4", "--max-new-tokens", "4", "--threads", "1",
                 "--limit", "4", "--progress", "false", "--bootstrap-iters", "0"]) == 0
    assert (other / "results_2026-01-01T00-00-00.json").exists()
    assert _results(out)["results"]["dreamframe_heldout_free"]
