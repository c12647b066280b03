"""End-to-end on a real single-node Slurm cluster: jobs submitted by `python -m training.submit`."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from dreamframe.dataset import DatasetFolder
from tests.conftest import REPO

LOCAL = str(REPO / "configs/slurm/local_cpu.yaml")


def submit(slurm, tmp_path, *args: str) -> list[tuple[str, Path]]:
    """Run the submitter against the test cluster; returns [(job id, script)] in submission order."""
    cmd = [sys.executable, "-m", "training.submit", "--cluster", LOCAL, "--run_dir", str(tmp_path / "slurm"), *args]
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
