"""Several writers in one dataset folder: a folder lock, one claim per movie, and who is still alive.

    OUT/.writers/lock               flock'ed around claim changes, config creation and the manifest
    OUT/.writers/claims/<id>.json   the writer rendering <id> now: {host, boot, pid, start}
    frames/.<id>.tmp-<host>-<pid>   a worker's frames before they are complete (see DatasetFolder)

A claim is created or taken over only under the lock, refreshed (mtime) by its owner's heartbeat,
and taken over only when its owner is gone: on this machine a pid that is dead, or now belongs to
another process (the start time recorded with it differs); on another machine no heartbeat for
STALE_AFTER_S seconds. Temp folders are removed only when the process named in them is gone.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from dreamframe.atomic import atomic_write_text

HEARTBEAT_S = 30.0
"""How often a writer refreshes the claims it holds."""
STALE_AFTER_S = 600.0
"""A claim from another machine without a heartbeat for this long belongs to a writer that is gone."""
STATE_DIR = ".writers"


def host_name() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def _process_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) from /proc, or None when /proc has no such process."""
    text = _read(f"/proc/{pid}/stat")
    if not text:
        return None
    fields = text.rsplit(")", 1)[-1].split()
    return fields[0], fields[19]


def pid_alive(pid: int, start: str = "") -> bool:
    """Is `pid` running (not a zombie), and, when `start` is given and /proc exists, the same process?"""
    if os.path.isdir("/proc/self"):
        stat = _process_stat(pid)
        return stat is not None and stat[0] not in ("Z", "X") and (not start or stat[1] == start)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Owner:
    """A process, identified across machines and reboots."""

    host: str
    boot: str
    pid: int
    start: str

    @classmethod
    def current(cls) -> Owner:
        stat = _process_stat(os.getpid())
        return cls(host_name(), _read("/proc/sys/kernel/random/boot_id"), os.getpid(), stat[1] if stat else "")

    def on_this_machine(self) -> bool:
        me = Owner.current()
        return self.host == me.host and self.boot == me.boot

    def alive(self) -> bool | None:
        """True / False on this machine; None on another one (only its heartbeat can tell)."""
        return pid_alive(self.pid, self.start) if self.on_this_machine() else None

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host}"


@contextmanager
def folder_lock(root: str | Path) -> Iterator[None]:
    """Exclusive lock of a dataset folder (flock: released by the kernel when its holder dies)."""
    path = Path(root) / STATE_DIR / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class Claims:
    """The per-movie claims of one dataset folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.dir = self.root / STATE_DIR / "claims"

    def path(self, movie_id: str) -> Path:
        return self.dir / f"{movie_id}.json"

    def holder(self, movie_id: str) -> Owner | None:
        """Who holds the claim; None when there is none (or it is unreadable: damaged, so free to take)."""
        try:
            return Owner(**json.loads(self.path(movie_id).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def live_holder(self, movie_id: str) -> Owner | None:
        """The other writer holding `movie_id` now, or None when it is free, stale or ours."""
        holder = self.holder(movie_id)
        if holder is None or holder == Owner.current():
            return None
        alive = holder.alive()
        if alive is None:
            try:
                alive = time.time() - self.path(movie_id).stat().st_mtime < STALE_AFTER_S
            except FileNotFoundError:
                return None
        return holder if alive else None

    def claim(self, movie_id: str) -> Owner | None:
        """Take `movie_id` (free, stale or already ours); returns the live writer holding it instead."""
        with folder_lock(self.root):
            other = self.live_holder(movie_id)
            if other is None:
                atomic_write_text(self.path(movie_id), json.dumps(asdict(Owner.current())) + "\n")
            return other

    def release(self, movie_id: str) -> None:
        with folder_lock(self.root):
            if self.holder(movie_id) == Owner.current():
                self.path(movie_id).unlink(missing_ok=True)

    def sweep(self) -> dict[str, str]:
        """Remove the claims of writers that are gone; returns the movies other writers hold now.
        Call under `folder_lock`."""
        live = {}
        for path in sorted(self.dir.glob("*.json")) if self.dir.is_dir() else []:
            holder = self.live_holder(path.stem)
            if holder is not None:
                live[path.stem] = str(holder)
            elif self.holder(path.stem) != Owner.current():
                path.unlink(missing_ok=True)
        return live

    def touch(self, movie_ids: Iterable[str]) -> None:
        for movie_id in movie_ids:
            try:
                os.utime(self.path(movie_id))
            except FileNotFoundError:
                pass


@contextmanager
def heartbeat(claims: Claims, held: Callable[[], Iterable[str]], every: float = HEARTBEAT_S) -> Iterator[None]:
    """Refresh the claims `held()` names every `every` seconds while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            claims.touch(list(held()))

    thread = threading.Thread(target=beat, name="claims-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# -- temp folders -----------------------------------------------------------------------------------
def temp_name(movie_id: str) -> str:
    """The temp folder name of `movie_id` for this process."""
    return f".{movie_id}.tmp-{host_name()}-{os.getpid()}"


def temp_owner_gone(name: str, claimed: bool = False) -> bool:
    """Is the process that named this temp folder gone? Another machine's temp is gone only when we hold
    the movie's claim (so its writer's claim was stale); a name we cannot parse is an old-style local one."""
    match = re.fullmatch(r"\..+\.tmp-(?:(?P<host>.+)-)?(?P<pid>\d+)", name)
    if match is None:
        return False
    if match["host"] not in (None, host_name()):
        return claimed
    return not pid_alive(int(match["pid"]))


def remove_dead_temps(folder: Path, movie_id: str = "*", claimed: bool = False) -> None:
    """Remove the temp folders (of `movie_id`, or all) whose process is gone."""
    import shutil

    for tmp in folder.glob(f".{movie_id}.tmp-*"):
        if temp_owner_gone(tmp.name, claimed):
            shutil.rmtree(tmp, ignore_errors=True)
