"""Render one run's movies beside any other writers of the same folder: claim, render, release.

A movie is claimed just before it is handed to a worker (dreamframe.claims), so two plain runs, two
shards or a job array's prepare step share one folder without rendering a movie twice. A movie
another live writer holds is waited for: the run ends when each of its movies is finished, by it or
by the other writer, or has failed; a movie whose writer died is taken over. Workers are spawned
processes that die with the run (a parent-death signal), so killing the run alone leaves no worker.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context

from dreamframe.atomic import WriteError
from dreamframe.claims import Claims, heartbeat
from dreamframe.dataset import DatasetFolder

POLL_S = 0.5
"""How often a run waiting on other writers looks at their movies."""

Task = Callable[[int], tuple[int, object, str | None]]
"""Writes movie `index`; returns (index, result, error text or None). Runs in a worker process."""
Stage = Callable[[list[tuple[int, str]]], dict[str, str]]
"""Prepares claimed movies in this process before they go to workers; returns {movie id: error}."""


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: the kernel kills this worker when the run dies (Linux), else a watch thread does."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):
        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent_pid:  # the run died before the signal was armed
        os._exit(1)


class InlineExecutor(Executor):
    """Runs each task at submit, in this process (workers <= 1)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:  # type: ignore[override]
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(err)
        return fut


def _executor(workers: int) -> Executor:
    if workers <= 1:
        return InlineExecutor()
    return ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                               initializer=die_with_parent, initargs=(os.getpid(),))


@dataclass
class Outcome:
    written: list[str] = field(default_factory=list)
    """Movies this run rendered."""
    failures: dict[str, str] = field(default_factory=dict)
    """Movies this run tried and failed, with why."""
    failed_elsewhere: dict[str, str] = field(default_factory=dict)
    """Movies of this run that another writer tried meanwhile and failed."""
    finished_elsewhere: list[str] = field(default_factory=list)
    """Movies of this run another writer finished meanwhile."""


def write_claimed(folder: DatasetFolder, todo: list[tuple[int, str]], task: Task, workers: int,
                  stage: Stage | None = None, capacity: int = 0, progress: bool = True) -> Outcome:
    """Write the movies `todo` = [(index, movie id)] that no other writer finishes first."""
    from tqdm import tqdm

    bar = tqdm(total=len(todo), desc="movies", unit="movie", disable=not progress)
    run = _ClaimedRun(folder, todo, task, workers, stage, capacity or 2 * workers, bar)
    with heartbeat(run.claims, lambda: list(run.held)):
        try:
            run.until_done()
        finally:
            run.pool.shutdown(wait=True, cancel_futures=True)
            bar.close()
    return run.out


class _ClaimedRun:
    """One write_claimed call's state: movies pending, waited for (another writer holds them), running in
    the pool, and claimed by this run (`held`, kept fresh by the heartbeat until released)."""

    def __init__(self, folder: DatasetFolder, todo: list[tuple[int, str]], task: Task, workers: int,
                 stage: Stage | None, capacity: int, bar) -> None:
        self.folder, self.task, self.workers, self.stage, self.capacity, self.bar = \
            folder, task, workers, stage, capacity, bar
        self.claims = Claims(folder.root)
        self.out = Outcome()
        self.pending = deque(todo)
        self.waiting: dict[str, tuple[int, float | None]] = {}  # movie id -> (index, failure record time then)
        self.running: dict[Future, tuple[int, str]] = {}
        self.held: set[str] = set()
        self.pool, self.rebuild, self.last_look = _executor(workers), False, 0.0

    def until_done(self) -> None:
        """Claim, start and collect movies until each is finished here or elsewhere, or has failed."""
        while self.pending or self.running or self.waiting:
            if self.rebuild and not self.running:  # a worker was killed: a new pool
                self.pool.shutdown(wait=True, cancel_futures=True)
                self.pool, self.rebuild = _executor(self.workers), False
            self.start(self.claim_batch())
            if self.running:
                for fut in wait(list(self.running), timeout=POLL_S, return_when=FIRST_COMPLETED)[0]:
                    self.collect(fut)
            elif self.waiting:
                time.sleep(POLL_S)
            if self.waiting and time.monotonic() - self.last_look >= POLL_S:
                self.last_look = time.monotonic()
                _look_at_others(self.folder, self.claims, self.waiting, self.pending, self.out, self.bar)

    def claim_batch(self) -> list[tuple[int, str]]:
        """Claim pending movies up to `capacity` in flight; one another writer holds is waited for."""
        batch: list[tuple[int, str]] = []
        while not self.rebuild and self.pending and len(self.running) + len(batch) < self.capacity:
            index, mid = self.pending.popleft()
            if self.claims.claim(mid) is not None:
                self.waiting[mid] = (index, _mtime(self.folder.failure_path(mid)))
            elif self.folder.is_finished(mid):  # another writer finished it since this run started
                self.claims.release(mid)
                self.out.finished_elsewhere.append(mid)
                self.bar.update()
            else:
                self.held.add(mid)
                batch.append((index, mid))
        return batch

    def start(self, batch: list[tuple[int, str]]) -> None:
        """Stage the claimed movies here, then hand each to the pool (a broken pool puts it back)."""
        staged_failures = self.stage(batch) if self.stage and batch else {}
        for index, mid in batch:
            if mid in staged_failures:
                self.settle(mid, staged_failures[mid])
                continue
            try:
                fut = self.pool.submit(self.task, index)
                self.running[fut] = (index, mid)
                if fut.done():  # inline: release the claim before the next movie starts
                    self.collect(fut)
            except BrokenProcessPool:
                self.pending.append((index, mid))
                self.claims.release(mid)
                self.held.discard(mid)
                self.rebuild = True

    def collect(self, fut: Future) -> None:
        index, mid = self.running.pop(fut)
        try:
            _, _, err = fut.result()
        except BrokenProcessPool as exc:  # a worker was killed (the OOM killer, a signal)
            err, self.rebuild = f"worker process died while writing it ({exc})", True
        self.settle(mid, err)

    def settle(self, mid: str, err: str | None) -> None:
        """Record the movie's failure or success, then release its claim."""
        if err:
            try:
                self.folder.record_failure(mid, err)
            except WriteError:  # the disk is full: name what the movie failed to write, not the note about it
                raise WriteError(f"movie {mid} failed: {err.splitlines()[0]}") from None
            self.out.failures[mid] = err
        else:
            self.folder.clear_failure(mid)
            self.out.written.append(mid)
        self.claims.release(mid)
        self.held.discard(mid)
        self.bar.update()


def _look_at_others(folder: DatasetFolder, claims: Claims, waiting: dict[str, tuple[int, float | None]],
                    pending: deque, out: Outcome, bar) -> None:
    """Movies other writers hold: finished, failed there, or free to take (their writer is gone)."""
    for mid, (index, seen_failure) in list(waiting.items()):
        if folder.is_finished(mid):
            out.finished_elsewhere.append(mid)
        elif claims.live_holder(mid) is not None:
            continue
        elif (when := _mtime(folder.failure_path(mid))) is not None and when != seen_failure:
            out.failed_elsewhere[mid] = folder.failures().get(mid, "failed in another writer")
        else:
            pending.append((index, mid))  # free, or its writer is gone: this run takes it
            del waiting[mid]
            continue
        del waiting[mid]
        bar.update()


def _mtime(path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None
