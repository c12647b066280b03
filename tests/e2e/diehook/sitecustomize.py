"""Test-only: make a process die by SIGKILL at a chosen write, as a kill at that instant would leave it
(or pause there, so that another process can run in between).

Active only when this folder is on PYTHONPATH (the kill-anywhere tests put it there for the commands they
run) and DREAMFRAME_TEST_DIE_AT is set:

    DREAMFRAME_TEST_DIE_AT="module:Attr.path@N@MODE[@NAME_PART]"

The N-th call of `module.Attr.path` (counting only calls whose file argument contains NAME_PART) dies:
MODE `before` dies before the call; `half`/`empty`/`torn` let the call write its file, cut that file to
half / zero bytes / all but its last 5 bytes (what a kill in the middle of the write, or of an append,
leaves) and then die. MODE `stop` lets the call run and then stops the process (SIGSTOP): the test runs
what it wants meanwhile and sends SIGCONT, and the process goes on as if nothing happened. The file is the first argument (self included) that is a path, an open file or a
file descriptor.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
from pathlib import Path

SPEC = os.environ.get("DREAMFRAME_TEST_DIE_AT")


def _file_of(args: tuple) -> Path | None:
    for a in args:
        if isinstance(a, int) and not isinstance(a, bool) and os.path.exists(f"/proc/self/fd/{a}"):
            return Path(os.readlink(f"/proc/self/fd/{a}"))
        if isinstance(a, (str, Path)) and len(str(a)) < 4096 and os.path.sep in str(a):
            return Path(a)
        if hasattr(a, "fileno") and hasattr(a, "name") and isinstance(a.name, str):
            a.flush()
            return Path(a.name)
    return None


def _install(spec: str) -> None:
    target, n, mode, *part = spec.split("@")
    module_name, attr_path = target.split(":")
    owner = importlib.import_module(module_name)
    *parents, name = attr_path.split(".")
    for p in parents:
        owner = getattr(owner, p)
    real = getattr(owner, name)
    calls = {"n": 0}

    @functools.wraps(real)
    def dying(*args, **kwargs):
        file = _file_of(args)
        if part and (file is None or part[0] not in file.name):
            return real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] != int(n):
            return real(*args, **kwargs)
        if mode == "stop":
            result = real(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGSTOP)
            return result
        if mode != "before":
            real(*args, **kwargs)
            if file is not None and file.is_file():
                size = file.stat().st_size
                os.truncate(file, {"empty": 0, "torn": max(0, size - 5)}.get(mode, size // 2))
        os.kill(os.getpid(), signal.SIGKILL)

    setattr(owner, name, dying)


if SPEC:
    _install(SPEC)
