"""End-to-end on a real single-node Slurm cluster: jobs submitted by `python -m launch.submit`."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dreamframe.dataset import DatasetFolder
from tests.conftest import REPO

LOCAL = str(REPO / "configs/slurm/local_cpu.yaml")
pytestmark = pytest.mark.needs_system  # the `slurm` fixture skips with the reason without Slurm


def submit(slurm, tmp_path, *args: str) -> list[tuple[str, Path]]:
    """Run the submitter against the test cluster; returns [(job id, script)] in submission order."""
    cmd = [sys.executable, "-m", "launch.submit", "--cluster", LOCAL, "--run_dir", str(tmp_path / "slurm"), *args]
    proc = subprocess.run(cmd, cwd=REPO, env=slurm.env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    jobs = [line.split(" ", 1) for line in proc.stdout.strip().splitlines()]
    assert jobs and all(job_id.isdigit() for job_id, _ in jobs), proc.stdout
    return [(job_id, Path(script)) for job_id, script in jobs]


def job_logs(script: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted((script.parent / "logs").glob("*.out")))


def test_generation_array_of_two_shards_fills_one_dataset_folder(slurm, tmp_path):
    out = tmp_path / "data"
    (array_id, script), (final_id, final_script) = submit(
        slurm, tmp_path, "--config", "configs/data_gen/tiny.yaml", "--array", "2", "--", "--out", str(out))
    assert final_script.name == "finalize.sbatch"
    assert slurm.job(final_id)["Dependency"].startswith(f"afterany:{array_id}")
    assert slurm.wait(array_id, timeout=90) == ["COMPLETED", "COMPLETED"], job_logs(script)
    assert slurm.wait(final_id, timeout=60) == ["COMPLETED"], job_logs(script)

    logs = job_logs(script)
    assert "task 0 of 2" in logs and "task 1 of 2" in logs
    shard_logs = sorted((script.parent / "logs").glob("df-generate-tiny-*_*.out"))
    assert len(shard_logs) == 2  # one log per array task (%A_%a)
    folder = DatasetFolder(out)
    manifest = folder.manifest()
    assert manifest["counts"]["movies"] == 4
    # Each shard wrote its own movies (index % 2): the finalize job found nothing left to write.
    assert manifest["last_run"]["skipped_finished"] == 4 and manifest["last_run"]["written"] == 0
    assert sorted(m.id for m in folder.movies()) == ["m00000", "m00001", "m00002", "m00003"]
    assert len(folder.load_qa("train")) + len(folder.load_qa("test")) == manifest["counts"]["qa"] > 0


@pytest.fixture(scope="module")
def train_data(tmp_path_factory):
    """A tiny dataset folder the training jobs read (written in-process, about a second)."""
    from data_gen.config import GenerateConfig
    from data_gen.generate import generate
    from dreamframe.config import from_dict, load_yaml

    out = tmp_path_factory.mktemp("train_data") / "data"
    data = {**load_yaml(REPO / "configs/data_gen/tiny.yaml"), "out": str(out)}
    generate(from_dict(GenerateConfig, data), progress=False)
    return out


def train_overrides(data: Path, out: Path, *extra: str) -> list[str]:
    """Tiny CPU training on `data`, writing to `out`, no eval/export (kept for the training tests)."""
    return ["--out", str(out), "--data.sources", f"[{{path: {data}}}]", "--model.tiny.corpus", f"[{data}]",
            "--data.generate_config", "null", "--data.batch_size", "4", "--eval.enabled", "false",
            "--export", "false", *extra]


def load_checkpoint(path: Path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


def usr1_handler_installed(slurm, job_id: str) -> bool:
    """True once a task of the job has a Python handler for SIGUSR1 (Lightning's requeue handler)."""
    listing = slurm.run(["scontrol", "listpids", job_id], check=False).stdout.split("\n")[1:]
    for line in listing:
        fields = line.split()
        if len(fields) < 4 or fields[3] == "-":  # only tasks (LOCALID set), not the step daemons
            continue
        try:
            status = Path(f"/proc/{fields[0]}/status").read_text()
        except OSError:
            continue
        caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)", status, re.M).group(1), 16)
        if "python" in Path(f"/proc/{fields[0]}/cmdline").read_text(errors="replace") and caught >> 9 & 1:
            return True
    return False


def test_tiny_cpu_training_usr1_checkpoints_requeues_and_finishes_from_it(slurm, tmp_path, train_data):
    """One training job covers both: it is sent USR1 mid-run, requeued, finishes, and leaves its checkpoint."""
    out = tmp_path / "train"
    max_steps = 24
    ((job_id, script),) = submit(slurm, tmp_path, "--config", "configs/train/tiny_cpu.yaml", "--",
                                 *train_overrides(train_data, out, "--max_steps", str(max_steps),
                                                  "--max_epochs", "100",  # max_steps ends it, not the epochs
                                                  "--checkpoint_every_n_steps", "8",
                                                  # steps slow enough that the job is requeued before it
                                                  # reaches the step-16 checkpoint (32 px steps were not)
                                                  "--model.tiny.image_size", "64"))
    # Training is under way once its first step-8 checkpoint exists (and Lightning's handler is installed);
    # the next regular checkpoint (step 16) comes well after the hpc one, so the hpc one is the newest.
    deadline = time.monotonic() + 90
    while not (list((out / "checkpoints").glob("*.ckpt")) and usr1_handler_installed(slurm, job_id)):
        assert time.monotonic() < deadline and slurm.states(job_id) in (["PENDING"], ["RUNNING"]), job_logs(script)
        time.sleep(0.3)
    # What Slurm does `signal_seconds` before the time limit (#SBATCH --signal=USR1@90), sent now.
    slurm.run(["scancel", "--signal=USR1", job_id])
    deadline = time.monotonic() + 60
    while not (slurm.job(job_id).get("Restarts") == "1" and slurm.states(job_id) == ["PENDING"]):
        assert time.monotonic() < deadline, f"{slurm.job(job_id)}\n{job_logs(script)}"
        time.sleep(0.3)
    hpc = out / "hpc_ckpt_1.ckpt"
    assert hpc.exists(), job_logs(script)
    saved_step = load_checkpoint(hpc)["global_step"]
    assert 8 <= saved_step < max_steps
    # Slurm holds a requeued job for about two minutes (BeginTime); release it now to keep the test short.
    slurm.run(["scontrol", "update", f"JobId={job_id}", "StartTime=now"])
    assert slurm.wait(job_id, timeout=120) == ["COMPLETED"], job_logs(script)

    logs = job_logs(script)
    assert f"job {job_id} restart 0" in logs and f"job {job_id} restart 1" in logs
    assert "Handling auto-requeue signal" in logs
    summary = json.loads((out / "summary.json").read_text())
    # `scontrol requeue` ends the job with SIGTERM, which (issue 27) lets the running step finish and saves a
    # step checkpoint after the hpc one: the restart resumes from the newer of the two, never from an older step
    resumed = Path(summary["resumed_from"]).resolve()
    assert resumed == hpc.resolve() or (resumed.parent == (out / "checkpoints").resolve()
                                        and int(resumed.stem.removeprefix("step")) >= saved_step), summary
    assert summary["global_step"] == max_steps, summary
    final = max((out / "checkpoints").glob("*.ckpt"), key=lambda p: p.stat().st_mtime)
    assert load_checkpoint(final)["global_step"] == max_steps


def test_eval_array_of_two_shards_fills_one_results_folder(slurm, tmp_path, train_data):
    out = tmp_path / "eval"
    tasks = ["dreamframe_heldout_closed", "dreamframe_heldout_open"]
    ((job_id, script),) = submit(slurm, tmp_path, "--config", "configs/eval/tiny_cpu.yaml", "--array", "2", "--",
                                 "--tasks", ",".join(tasks), "--data_dirs", f"{{dreamframe_heldout: {train_data}}}",
                                 "--limit", "4", "--progress", "false", "--out", str(out))
    assert slurm.wait(job_id, timeout=120) == ["COMPLETED", "COMPLETED"], job_logs(script)
    (model_dir,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    results = [json.loads(p.read_text()) for p in sorted(model_dir.glob("results_*.json"))]
    assert sorted(task for r in results for task in r["results"]) == tasks  # one share per array task
    assert all(len(r["results"]) == 1 and "dreamframe" in r for r in results)
    assert {t for t in tasks if list(model_dir.glob(f"samples_{t}_*.jsonl"))} == set(tasks)
