"""Atomic writes: temp file (or folder) in the same folder, fsync, rename. A killed run never leaves half
a file, half an export folder or half a checkpoint where a reader (or a done-check) looks."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}
DISK_TEXTS = ("No space left on device", "Disk quota exceeded", "StorageFull", "os error 28", "Read-only file system")


class WriteError(OSError):
    """The disk refused a write (full, over quota, read-only); the message names the file or folder."""


def is_disk_error(err: BaseException) -> bool:
    """Is `err` the disk refusing a write? Also when a library (safetensors' Rust writer, PIL) carries the
    OS error only in its text, or dropped the file name from it (a failed write() has none)."""
    if isinstance(err, WriteError) or (isinstance(err, OSError) and err.errno in DISK_ERRNOS):
        return True
    return any(text in str(err) for text in DISK_TEXTS)


@contextmanager
def naming_write_errors(path: str | Path) -> Iterator[None]:
    """Turn a disk error inside the block into one WriteError that names `path` (what was being written)."""
    try:
        yield
    except WriteError:
        raise
    except Exception as err:
        if not is_disk_error(err):
            raise
        text = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        why = next((t for t in DISK_TEXTS[:2] + DISK_TEXTS[-1:] if t in text), text.splitlines()[0][:200])
        raise WriteError(f"{path}: cannot write it ({why}); free space on that disk and run the command again") \
            from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically, with the permissions a plain open() would give (mkstemp gives 0600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with naming_write_errors(path), os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def fsync_tree(path: str | Path) -> None:
    """Flush a file, or every file and folder below `path`, to disk (a rename after it is then durable)."""
    path = Path(path)
    for p in [*path.rglob("*"), path] if path.is_dir() else [path]:
        _fsync(p)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_path(path: str | Path) -> None:
    """Remove a file or a folder tree; nothing when absent."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def partial_path(path: str | Path) -> Path:
    """Where `path` is written before `publish` renames it into place: a hidden sibling, so globs and
    done-checks never see it. A killed writer leaves only this behind; the next writer removes it."""
    path = Path(path)
    return path.with_name(f".{path.name}.partial")


def publish(partial: str | Path, path: str | Path) -> None:
    """Put the finished file or folder `partial` at `path`, flushed, with one rename. An existing folder
    at `path` is renamed aside first and removed after: a kill in between leaves `path` absent (redone
    on the next run), never half-written."""
    partial, path = Path(partial), Path(path)
    fsync_tree(partial)
    if path.is_dir() and not path.is_symlink():
        old = path.with_name(f".{path.name}.old")
        remove_path(old)
        os.replace(path, old)
        os.replace(partial, path)
        remove_path(old)
    else:
        os.replace(partial, path)
    _fsync(path.parent)


@contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Write a whole folder atomically: fill the yielded temp folder; on success it replaces `path`
    (see `publish`); on an exception it is removed and `path` is left as it was."""
    partial = partial_path(path)
    remove_path(partial)
    partial.mkdir(parents=True)
    try:
        with naming_write_errors(path):
            yield partial
    except BaseException:
        remove_path(partial)
        raise
    with naming_write_errors(path):
        publish(partial, path)
