"""`python -m data_gen.generate` with probes, for tests that must see or stop it at an exact point.

    python tests/data_gen/generate_probe.py ARGS...      (use --workers 1: everything runs in this process)

DF_PROBE_LOG=file  append one line per file-system write ("op path") and per movie written ("movie id")
DF_KILL_AT=k       SIGKILL this process just before its k-th file-system write (1-based)

File-system writes are the calls that change files: os.replace / rename / unlink / mkdir / rmdir / fsync
and PIL's Image.save, so a kill can land before a frame, inside an atomic write (after the temp file
is written, before it is renamed), between a movie's files, or while the QA tables or manifest are written.
"""

from __future__ import annotations

import os
import signal
import sys

from PIL import Image

LOG = os.environ.get("DF_PROBE_LOG")
KILL_AT = int(os.environ.get("DF_KILL_AT", "0"))
_count = 0


def _note(line: str) -> None:
    if LOG:
        with open(LOG, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def _probe(name: str, fn):
    def wrapper(*args, **kwargs):
        global _count
        _count += 1
        if _count == KILL_AT:
            os.kill(os.getpid(), signal.SIGKILL)
        _note(" ".join([name, *(os.fspath(a) for a in args if isinstance(a, (str, os.PathLike)))]))
        return fn(*args, **kwargs)

    return wrapper


def install() -> None:
    for name in ("replace", "rename", "unlink", "mkdir", "rmdir", "fsync"):
        setattr(os, name, _probe(name, getattr(os, name)))
    save = Image.Image.save
    Image.Image.save = lambda self, fp, *a, **k: _probe("save", lambda *_: save(self, fp, *a, **k))(fp)
    from dreamframe.dataset import DatasetFolder

    write_movie = DatasetFolder.write_movie

    def logged(self, movie, *args, **kwargs):
        _note(f"movie {movie.id}")
        return write_movie(self, movie, *args, **kwargs)

    DatasetFolder.write_movie = logged


if __name__ == "__main__":
    install()
    from data_gen.generate import main

    sys.exit(main(sys.argv[1:]))
