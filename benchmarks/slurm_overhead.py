"""Slurm overheads on a real single-node test cluster: start-up, submission, queue wait, a 2-task DDP run.

    python benchmarks/slurm_overhead.py                 # needs root + slurm-wlm/munge (see docs/slurm.md)
    python benchmarks/slurm_overhead.py --tasks 1 --steps 12

Starts the same throwaway cluster as tests/launch (own munge key, ports, temp folder), submits the tiny CPU
training with `python -m launch.submit` as N tasks on one node (N > 1: Lightning DDP over gloo, one rank
per srun task, which the test suite skips for time), waits, prints the figures, and stops every daemon.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.launch.cluster import SlurmCluster, unavailable_reason  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=2, help="CPU tasks (DDP ranks) on the node")
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps of the tiny training")
    args = parser.parse_args()
    reason = unavailable_reason()
    if reason:
        print(f"cannot run: {reason}")
        return 1
    root = Path(tempfile.mkdtemp(prefix="df-slurm-bench-"))
    cluster = SlurmCluster(root / "cluster", cpus=max(2, args.tasks))
    t0 = time.perf_counter()
    cluster.start()
    figures = {"cluster_start_s": time.perf_counter() - t0}
    try:
        data = root / "data"
        subprocess.run([sys.executable, "-m", "data_gen.generate", "--config", "configs/data_gen/tiny.yaml",
                        "--out", str(data)], cwd=REPO, check=True, capture_output=True)
        cmd = [sys.executable, "-m", "launch.submit", "--cluster", "configs/slurm/local_cpu.yaml",
               "--run_dir", str(root / "runs"), "--config", "configs/train/tiny_cpu.yaml",
               "--cpu-tasks-per-node", str(args.tasks), "--",
               "--out", str(root / "train"), "--data.sources", f"[{{path: {data}}}]", "--model.tiny.corpus",
               f"[{data}]", "--data.generate_config", "null", "--data.batch_size", "4", "--eval.enabled", "false",
               "--export", "false", "--max_steps", str(args.steps), "--max_epochs", "50"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, env=cluster.env, capture_output=True, text=True, check=True)
        figures["submit_s"] = time.perf_counter() - t0
        job_id = proc.stdout.split()[0]
        while cluster.states(job_id) == ["PENDING"]:
            time.sleep(0.05)
        figures["queue_wait_s"] = time.perf_counter() - t0 - figures["submit_s"]
        states = cluster.wait(job_id, timeout=900)
        figures["job_wall_s"] = time.perf_counter() - t0 - figures["submit_s"]
        log = "\n".join(p.read_text(errors="replace") for p in (root / "runs").glob("*/logs/*.out"))
        ranks = f"Starting with {args.tasks} processes" in log if args.tasks > 1 else True
        print(f"job {job_id}: {states[0]}, {args.tasks} task(s), {args.steps} steps, ranks joined: {ranks}")
        for key, value in figures.items():
            print(f"{key}: {value:.2f}")
        return 0 if states == ["COMPLETED"] and ranks else 1
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
