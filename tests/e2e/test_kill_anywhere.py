"""Kill anywhere, run the same command again, get what an uninterrupted run gets (issue 12).

Each test runs the real command line three or four times on one output folder, killing it with SIGKILL:
at the instants that used to corrupt state (half a checkpoint, half an export, a 0-byte done marker, half a
results file, a torn cache line - made hittable by tests/e2e/diehook/sitecustomize.py, which
kills the process inside that write and leaves the file as the kill would), and at a random moment
(seeded: DREAMFRAME_KILL_SEED, printed on failure). The last run must finish with the final weights /
metrics / leaderboard of an uninterrupted run started beside it.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TINY_MODEL, PipelineRun

REPO = Path(__file__).resolve().parents[2]
DIEHOOK = Path(__file__).with_name("diehook")
SEED = int(os.environ.get("DREAMFRAME_KILL_SEED", "12"))

pytestmark = pytest.mark.slow


def env(die_at: str | None = None) -> dict[str, str]:
    out = {**os.environ, "PYTHONPATH": f"{DIEHOOK}{os.pathsep}{REPO}", "HF_HUB_OFFLINE": "1",
           "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1"}
    out.pop("DREAMFRAME_TEST_DIE_AT", None)
    if die_at:
        out["DREAMFRAME_TEST_DIE_AT"] = die_at
    return out


def start(cmd: list[str], die_at: str | None = None) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=REPO, env=env(die_at), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def finish(proc: subprocess.Popen, timeout: float = 900) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


def run(cmd: list[str], die_at: str | None = None) -> tuple[int, str]:
    return finish(start(cmd, die_at))


def kill_when(cmd: list[str], ready: Callable[[], bool], delay: float) -> int:
    """Start `cmd`, and once `ready()` holds wait `delay` s and SIGKILL its whole process group (as a job
    scheduler does); returns the exit code (0 when it finished first)."""
    proc = start(cmd)
    while proc.poll() is None and not ready():
        time.sleep(0.05)
    time.sleep(delay)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    return finish(proc)[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("kill") / "data"
    subprocess.run([sys.executable, "-m", "data_gen.generate", "--config", str(REPO / "configs/data_gen/tiny.yaml"),
                    "--out", str(out)], check=True, cwd=REPO, capture_output=True, env=env())
    return out


# -- training ---------------------------------------------------------------------------------------
def train_cmd(data: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "training.train", "--config", str(REPO / "configs/train/tiny_cpu.yaml"),
            f"--out={out}", f'--data.sources=[{{"path": "{data}"}}]', "--data.generate_config=null",
            "--data.batch_size=4", f"--model.tiny={TINY_MODEL % data}", "--eval.enabled=false",
            "--log.every_n_steps=1", "--max_steps=6", "--checkpoint_every_n_steps=2"]


def last_step(out: Path) -> int:
    log = out / "loss.jsonl"
    steps = [json.loads(line)["step"] for line in log.read_text().splitlines() if line.strip()] if log.exists() else []
    return max(steps, default=0)


def losses(out: Path) -> dict[int, float]:
    rows = [json.loads(line) for line in (out / "loss.jsonl").read_text().splitlines() if line.strip()]
    return {r["step"]: r["loss"] for r in rows}


def weights(export: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(export / "model.safetensors"))


def test_train_killed_anywhere_ends_with_the_uninterrupted_weights(data, tmp_path):
    rng = random.Random(SEED)
    reference = start(train_cmd(data, tmp_path / "ref"))
    out = tmp_path / "run"
    cmd = train_cmd(data, out)
    ckpts = out / "checkpoints"

    rc, log = run(cmd, die_at="lightning.fabric.plugins.io.torch_io:_atomic_save@2@half")  # the step-4 checkpoint
    assert rc == -signal.SIGKILL, log[-2000:]
    assert (ckpts / "step0000002.ckpt").is_file() and not (ckpts / "step0000004.ckpt").exists(), \
        "a checkpoint cut short must not be where resume looks"

    step = rng.randint(3, 5)
    delay = rng.uniform(0.0, 0.5)
    rc = kill_when(cmd, lambda: last_step(out) >= step, delay)
    assert rc in (0, -signal.SIGKILL), f"seed {SEED}: killed after step {step} + {delay:.2f} s"
    latest = max(ckpts.glob("*.ckpt"))

    rc, log = run(cmd, die_at="transformers.modeling_utils:safe_save_file@1@half")  # the export's weights
    assert rc == -signal.SIGKILL, log[-2000:]
    assert f"resuming from {latest}" in log, log[-2000:]  # the same command picks up the newest checkpoint
    assert not (out / "export").exists(), "half an export must not be where eval (or the pipeline) looks"
    assert not (out / "summary.json").exists()

    rc, log = run(cmd)
    assert rc == 0, log[-3000:]
    assert finish(reference)[0] == 0
    ref, got = weights(tmp_path / "ref" / "export"), weights(out / "export")
    assert got.keys() == ref.keys()
    assert max(float((got[k] - ref[k]).abs().max()) for k in ref) < 1e-6, f"seed {SEED}"
    assert json.loads((out / "summary.json").read_text())["global_step"] == 6
    # the loss curve too: each step logged once, as the uninterrupted run logged it
    ref_loss, got_loss = losses(tmp_path / "ref"), losses(out)
    assert sorted(got_loss) == sorted(ref_loss) == list(range(1, 7))
    assert [got_loss[s] for s in ref_loss] == pytest.approx(list(ref_loss.values()), rel=1e-4, abs=1e-5)
    assert not list(out.rglob(".*.partial"))


# -- eval -------------------------------------------------------------------------------------------
def eval_cmd(data: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "eval.run", "--model", "tiny-llava_onevision", "--tasks",
            "dreamframe_heldout_closed", "--data-root", str(data), "--out", str(out), "--batch-size", "2",
            "--max-new-tokens", "8", "--num-frames", "2", "--limit", "8", "--threads", "1", "--progress", "false",
            "--bootstrap-iters", "0"]


def answers_cached(out: Path) -> int:
    return sum(p.read_text().count('"key"') for p in out.glob("*/cache/*/answers/*.jsonl"))


def metrics(out: Path) -> dict:
    (path,) = sorted((out / "tiny-llava_onevision").glob("results_*.json"))[-1:]
    return json.loads(path.read_text())["results"]


def test_eval_killed_anywhere_gives_the_uninterrupted_metrics(data, tmp_path):
    rng = random.Random(SEED + 1)
    reference = start(eval_cmd(data, tmp_path / "ref"))
    out = tmp_path / "run"
    cmd = eval_cmd(data, out)

    rc, log = run(cmd, die_at="os:fsync@2@torn@dreamframe_heldout_closed.jsonl")  # the 2nd cache append, torn
    assert rc == -signal.SIGKILL, log[-2000:]
    assert 1 <= answers_cached(out) < 8

    answered = rng.randint(answers_cached(out) + 1, 7)
    delay = rng.uniform(0.0, 0.3)
    rc = kill_when(cmd, lambda: answers_cached(out) >= answered, delay)
    assert rc in (0, -signal.SIGKILL), f"seed {SEED + 1}: killed {delay:.2f} s after {answered} answers"

    rc, log = run(cmd, die_at="pathlib:Path.write_text@1@half@results_")  # lm-eval writing the results JSON
    assert rc == -signal.SIGKILL, log[-2000:]

    rc, log = run(cmd)
    assert rc == 0, log[-3000:]
    assert finish(reference)[0] == 0
    assert metrics(out) == metrics(tmp_path / "ref"), f"seed {SEED + 1}"
    board = subprocess.run([sys.executable, "-m", "eval.leaderboard", str(out), "--out", str(tmp_path / "lb"),
                            "--published", "none"], cwd=REPO, env=env(), capture_output=True, text=True)
    assert board.returncode == 0, board.stderr[-2000:]  # no half-written results file anywhere it reads
    assert not any((out / ".staging").iterdir()), "the killed run's staging folder is swept by the next run"


# -- the pipeline -----------------------------------------------------------------------------------
KILL_STAGES = "data,data_shift,base,eval_base,train,eval_tuned,leaderboard"


def pipeline_cmd(reference: PipelineRun, out: Path) -> list[str]:
    """The session's tiny pipeline run (tests/conftest.py) into another folder, with the stages of one model
    and its base; the tiny model's tokenizer reads this run's own dataset."""
    options = [opt.replace(str(reference.out / "data"), str(out / "data")) for opt in reference.options]
    return [sys.executable, "-m", "dreamframe.pipeline", *options, "--out", str(out), "--stages", KILL_STAGES]


def board_values(out: Path) -> dict[tuple[str, str, str], str]:
    with open(out / "leaderboard" / "leaderboard.csv", newline="") as fh:
        return {(r["model"], r["task"], r["metric"]): r["value"] for r in csv.DictReader(fh)}


def test_pipeline_killed_anywhere_ends_with_the_uninterrupted_leaderboard(tiny_pipeline, tmp_path):
    rng = random.Random(SEED + 2)
    out = tmp_path / "run"
    cmd = pipeline_cmd(tiny_pipeline, out)

    # the case: killed while the base model's export writes config.json, leaving it 0 bytes.
    # Only data and base: the hook kills every process that writes a config, `train` included.
    rc, log = run([*cmd, "--stages", "data,base"],
                  die_at="transformers.configuration_utils:PretrainedConfig.to_json_file@1@empty")
    assert rc == 1 and "stage 'base' failed" in log, log[-2000:]
    assert not (out / "base" / "export").exists() and not (out / "base" / "summary.json").exists()

    stage = rng.choice(["eval_base", "train", "eval_tuned"])
    delay = rng.uniform(0.0, 3.0)
    rc = kill_when(cmd, lambda: (out / "logs" / f"{stage}.log").exists(), delay)
    assert rc in (0, -signal.SIGKILL), f"seed {SEED + 2}: killed {delay:.1f} s into {stage}"

    rc, log = run(cmd)
    assert rc == 0, log[-3000:]
    # the uninterrupted run is the session's, which ran every stage: its rows of these two models
    got = board_values(out)
    models = {model for model, _, _ in got}
    assert {"tiny-base", "tiny-dreamframe"} <= models
    assert got == {k: v for k, v in board_values(tiny_pipeline.out).items() if k[0] in models}, f"seed {SEED + 2}"
