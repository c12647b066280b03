"""The DreamFrame model and tasks from lm-eval's own command line (real `lm_eval` in a subprocess), and
its plain results on the leaderboard, labelled as such."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from eval.leaderboard import main as leaderboard
from eval.run import main as eval_run
from tests.conftest import REPO

MODEL_ARGS = ["--model", "dreamframe", "--model_args", "model=tiny-llava_onevision", "--batch_size", "4",
              "--gen_kwargs", "max_gen_toks=4", "--limit", "3"]


def lm_eval(*args: str, module: str | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", module] if module else [shutil.which("lm_eval") or sys.executable, *(
        [] if shutil.which("lm_eval") else ["-m", "lm_eval"])]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def tasks_dir(tmp_path_factory, heldout_root):
    out = tmp_path_factory.mktemp("lmcli")
    assert eval_run(["--tasks", "dreamframe_heldout", "--data-dirs", json.dumps({"dreamframe_heldout": str(heldout_root)}),
                     "--num-frames", "2", "--out", str(out), "--write-tasks", "true"]) == 0
    return out / ".dreamframe_tasks" / "tasks"


def results_of(folder):
    (path,) = folder.rglob("results_*.json")
    return json.loads(path.read_text())


@pytest.mark.slow
def test_lm_eval_cli_runs_the_dreamframe_model_on_task_files(tasks_dir, tmp_path):
    out = tmp_path / "lm"
    proc = lm_eval(*MODEL_ARGS, "--tasks", str(tasks_dir / "dreamframe_heldout_closed.yaml"), "--output_path", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = results_of(out)
    assert res["config"]["model"] == "dreamframe" and "dreamframe" not in res  # lm-eval's own results file
    assert res["n-samples"]["dreamframe_heldout_closed"]["effective"] == 3
    assert 0.0 <= res["results"]["dreamframe_heldout_closed"]["acc,none"] <= 100.0  # percent

    board = tmp_path / "board"
    assert leaderboard([str(out), "--out", str(board), "--published", "none", "--bootstrap", "0"]) == 0
    md = (board / "leaderboard.md").read_text()
    assert "tiny-llava_onevision" in md and "plain lm-eval results" in md


@pytest.mark.slow
def test_include_path_and_group_names_through_lm_evals_cli_with_the_model_registered(tasks_dir, tmp_path):
    out = tmp_path / "lm"
    proc = lm_eval(*MODEL_ARGS, "--include_path", str(tasks_dir), "--tasks", "dreamframe_heldout",
                   "--output_path", str(out), module="eval.lm_eval_cli")
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = results_of(out)
    assert set(res["group_subtasks"]["dreamframe_heldout"]) == {"dreamframe_heldout_closed", "dreamframe_heldout_free",
                                                               "dreamframe_heldout_open"}
    assert "acc,none" in res["groups"]["dreamframe_heldout"]
    # plain `lm_eval` looks the model up before it imports anything from --include_path (lm-eval 0.4.13)
    plain = lm_eval(*MODEL_ARGS, "--include_path", str(tasks_dir), "--tasks", "dreamframe_heldout_closed",
                    "--output_path", str(tmp_path / "x"))
    assert plain.returncode != 0 and "no model for this name" in plain.stderr


@pytest.mark.slow
def test_readme_glob_of_the_task_folder_runs_every_task(tasks_dir, tmp_path):
    """README: `lm_eval ... --tasks '<tasks dir>/*.yaml'`. lm-eval 0.4.13 reads every globbed file as a
    task config, so a group file there crashed it (TypeError: unexpected keyword argument 'group')."""
    out = tmp_path / "lm"
    proc = lm_eval(*MODEL_ARGS, "--limit", "1", "--tasks", f"{tasks_dir}/*.yaml", "--output_path", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert list((tasks_dir / "groups").glob("*.yaml"))  # the group file: found by --include_path, not the glob
    res = results_of(out)
    assert set(res["results"]) == {"dreamframe_heldout_closed", "dreamframe_heldout_free", "dreamframe_heldout_open"}
    # the units the leaderboard reads: lm-eval copies each task config's metadata into its results
    assert all(res["configs"][t]["metadata"]["accuracy_units"] == "percent" for t in res["results"])
