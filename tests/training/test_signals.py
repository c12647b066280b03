"""SIGTERM / SIGINT during training (issue 27, problem 2): Lightning alone ends such a run with exit code 0,
no export and no summary, and the pipeline took the stage for finished. Now: a checkpoint of the step in
progress, exit 128 + the signal, and the same command resumes and finishes; the pipeline counts a stage
done only when its marker exists."""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.training.conftest import ROOT, tiny_overrides
from training.checkpoints import newest_readable, read_step


# training.train with a callback that sends the signal to its own process after optimizer step 2: a real
# signal through the real handlers, at a known step (a signal from outside lands wherever the run is).
DRIVER = """
import os, sys
import lightning as L
import training.train as t
class SignalAt(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step == 2:
            os.kill(os.getpid(), int(sys.argv[1]))
build = t.build_trainer
t.build_trainer = lambda cfg, callbacks: build(cfg, [*callbacks, SignalAt()])
sys.exit(t.main(sys.argv[2:]))
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_run_saves_a_checkpoint_exits_non_zero_and_the_rerun_finishes(tiny_data, tmp_path, sig):
    out = tmp_path / "run"
    args = tiny_overrides(tiny_data, out, max_steps=5, checkpoint_every_n_steps=1000)
    got = subprocess.run([sys.executable, "-c", DRIVER, str(int(sig)), *args], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert got.returncode == 128 + sig, got.stderr[-3000:]
    assert f"interrupted: stopped by {sig.name} after saving" in got.stderr
    ckpt = newest_readable(out)
    assert ckpt is not None and read_step(Path(ckpt)) == 2, "the step in progress is saved (none was due)"
    assert not (out / "summary.json").exists() and not (out / "export").exists()
    if sig == signal.SIGINT:
        return  # the resume is the same for both signals
    rerun = subprocess.run([sys.executable, "-m", "training.train", *args], cwd=ROOT, capture_output=True, text=True,
                           timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"resuming from {ckpt}" in rerun.stdout
    assert (out / "summary.json").exists() and (out / "export" / "model.safetensors").exists()


@dataclass
class ExitsZero:
    """A stage command that exits 0 without writing anything (what an interrupted training did)."""

    def cmd(self) -> list[str]:
        return [sys.executable, "-c", "pass"]


def test_the_pipeline_never_counts_a_stage_without_its_marker_as_done(tmp_path):
    from launch.pipeline import Runner, Stage

    plan = {"train": Stage(ExitsZero(), tmp_path / "train" / "summary.json"),  # type: ignore[arg-type]
            "eval_tuned": Stage(ExitsZero(), tmp_path / "eval" / ".done_tuned", ("train",))}  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match=r"stage 'train' exited 0 but did not write .*summary.json"):
        Runner(plan, ["train", "eval_tuned"], tmp_path / "logs", {}, jobs=2).run()
    assert not (tmp_path / "eval" / ".done_tuned").exists(), "the next stage did not run"
