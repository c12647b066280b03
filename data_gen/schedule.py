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

    claims = Claims(folder.root)
    out = Outcome()
    pending = deque(todo)
    waiting: dict[str, tuple[int, float | None]] = {}  # movie id -> (index, failure record time when we began)
    running: dict[Future, tuple[int, str]] = {}
    held: set[str] = set()  # claimed by this run and not yet released: kept fresh by the heartbeat
    capacity = capacity or 2 * workers
    bar = tqdm(total=len(todo), desc="movies", unit="movie", disable=not progress)
    pool, rebuild, last_look = _executor(workers), False, 0.0

    def collect(fut: Future) -> None:
        nonlocal rebuild
        index, mid = running.pop(fut)
        try:
            _, _, err = fut.result()
        except BrokenProcessPool as exc:  # a worker was killed (the OOM killer, a signal)
            err, rebuild = f"worker process died while writing it ({exc})", True
        settle(mid, err)

    def settle(mid: str, err: str | None) -> None:
        if err:
            try:
                folder.record_failure(mid, err)
            except WriteError:  # the disk is full: name what the movie failed to write, not the note about it
                raise WriteError(f"movie {mid} failed: {err.splitlines()[0]}") from None
            out.failures[mid] = err
        else:
            folder.clear_failure(mid)
            out.written.append(mid)
        claims.release(mid)
        held.discard(mid)
        bar.update()

    with heartbeat(claims, lambda: list(held)):
        try:
            while pending or running or waiting:
                if rebuild and not running:  # a worker was killed: a new pool
                    pool.shutdown(wait=True, cancel_futures=True)
                    pool, rebuild = _executor(workers), False
                batch = []
                while not rebuild and pending and len(running) + len(batch) < capacity:
                    index, mid = pending.popleft()
                    if claims.claim(mid) is not None:
                        waiting[mid] = (index, _mtime(folder.failure_path(mid)))
                    elif folder.is_finished(mid):  # another writer finished it since this run started
                        claims.release(mid)
                        out.finished_elsewhere.append(mid)
                        bar.update()
                    else:
                        held.add(mid)
                        batch.append((index, mid))
                staged_failures = stage(batch) if stage and batch else {}
                for index, mid in batch:
                    if mid in staged_failures:
                        settle(mid, staged_failures[mid])
                        continue
                    try:
                        fut = pool.submit(task, index)
                        running[fut] = (index, mid)
                        if fut.done():  # inline: release the claim before the next movie starts
                            collect(fut)
                    except BrokenProcessPool:
                        pending.append((index, mid))
                        claims.release(mid)
                        held.discard(mid)
                        rebuild = True
                if running:
                    for fut in wait(list(running), timeout=POLL_S, return_when=FIRST_COMPLETED)[0]:
                        collect(fut)
                elif waiting:
                    time.sleep(POLL_S)
                if waiting and time.monotonic() - last_look >= POLL_S:
                    last_look = time.monotonic()
                    _look_at_others(folder, claims, waiting, pending, out, bar)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            bar.close()
    return out


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
