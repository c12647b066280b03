"""A real single-node Slurm cluster (Debian's slurm-wlm 22.05 + munge) in a temp folder, for tests.

Everything lives under one folder: its own munge key and socket, its own slurm.conf with free ports,
state, spool, pid and log files, so it never meets a system Slurm or another test session. Daemons run
as root (SlurmUser=root) and are stopped by the PIDs in their pid files.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "srun", "sinfo")
DAEMON_DIRS = ("/usr/sbin", "/usr/bin", "/sbin")


def which(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    return next((f"{d}/{name}" for d in DAEMON_DIRS if os.access(f"{d}/{name}", os.X_OK)), None)


def unavailable_reason() -> str | None:
    """Why a test cluster cannot start here (None: it can)."""
    missing = [b for b in BINARIES if which(b) is None]
    if missing:
        return (f"Slurm test cluster: missing {', '.join(missing)}; "
                "apt-get install slurm-wlm slurmctld slurmd slurm-client munge (listed in .ci/apt-packages.txt)")
    if os.geteuid() != 0:
        return "Slurm test cluster: slurmd must run as root to start jobs (tests run as a normal user)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SLURM_CONF = """\
ClusterName=dftest
SlurmctldHost=localhost
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=2000
ReturnToService=2
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerParameters=sched_interval=1
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


class SlurmCluster:
    """Start with `start()`, run commands with `run(...)` or `env`, stop with `stop()`."""

    def __init__(self, root: Path, cpus: int = 2, memory_mb: int = 8000):
        self.root = Path(root)
        self.cpus = cpus
        self.memory_mb = memory_mb
        self.conf = self.root / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self.pid_files = [self.root / "slurmd.pid", self.root / "slurmctld.pid", self.root / "munge" / "munged.pid"]

    def start(self, timeout: float = 30) -> None:
        for sub in ("state", "spool", "log"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        munge = self.root / "munge"
        munge.mkdir(mode=0o700, exist_ok=True)
        key = munge / "munge.key"
        key.write_bytes(secrets.token_bytes(128))
        key.chmod(0o400)
        self._daemon([which("munged"), "--force", f"--socket={munge}/munge.socket", f"--key-file={key}",
                      f"--log-file={munge}/munged.log", f"--pid-file={munge}/munged.pid",
                      f"--seed-file={munge}/munged.seed"])
        self.conf.write_text(SLURM_CONF.format(root=self.root, ctld_port=free_port(), slurmd_port=free_port(),
                                               cpus=self.cpus, memory=self.memory_mb))
        self._daemon([which("slurmctld")])
        self._daemon([which("slurmd"), "-N", "localhost"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.run(["sinfo", "-h", "-o", "%T"], check=False).stdout.strip()
            if state == "idle":
                return
            time.sleep(0.3)
        raise RuntimeError(f"Slurm node not idle after {timeout} s (state {state!r}):\n{self.logs()}")

    def _daemon(self, cmd: list[str]) -> None:
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr}\n{self.logs()}")

    def run(self, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=check)

    def job(self, job_id: str) -> dict[str, str]:
        """`scontrol show job` fields of a job (or of each task of an array, the first one)."""
        out = self.run(["scontrol", "-o", "show", "job", job_id], check=False).stdout.strip()
        if not out:
            return {}
        fields = {}
        for part in out.splitlines()[0].split(" "):
            key, _, value = part.partition("=")
            fields[key] = value
        return fields

    def states(self, job_id: str) -> list[str]:
        out = self.run(["scontrol", "-o", "show", "job", job_id], check=False).stdout
        return [p.split("=", 1)[1] for line in out.splitlines() for p in line.split(" ") if p.startswith("JobState=")]

    def wait(self, job_id: str, timeout: float, done=("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT",
                                                          "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED")) -> list[str]:
        """Wait until every task of the job ended; returns their final states."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.states(job_id)
            if states and all(s in done for s in states):
                return states
            time.sleep(0.5)
        raise TimeoutError(f"job {job_id} still {self.states(job_id)} after {timeout} s\n{self.logs()}")

    def logs(self, lines: int = 15) -> str:
        out = []
        for path in [*sorted((self.root / "log").glob("*.log")), self.root / "munge" / "munged.log"]:
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {path}\n" + "\n".join(tail))
        return "\n".join(out)

    def stop(self, timeout: float = 15) -> None:
        """Cancel leftover jobs, then stop slurmd, slurmctld and munged by the PIDs in their pid files."""
        if self.conf.exists():
            self.run(["scancel", "--user", str(os.geteuid())], check=False)
        for pid_file in self.pid_files:
            if not pid_file.exists():
                continue
            pid = int(pid_file.read_text().split()[0])
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.1)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has exited but waits to be reaped by its parent
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return True
