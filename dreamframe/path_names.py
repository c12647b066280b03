"""Names from users or data files that become one file or folder name: checked before anything is written.

A name over 255 bytes made "File name too long" tracebacks (after a model had loaded); one with `/` or
`..` left its folder; one starting with `.` went to a hidden folder that every reader skips.
"""

from __future__ import annotations

import os
from pathlib import PurePath

NAME_MAX = 255
"""Bytes in one path component on Linux/macOS file systems (ext4, xfs, btrfs, APFS, Lustre, NFS)."""


def _utf8_len(text: str) -> int:
    return len(os.fsencode(text))


def component_problem(name: str) -> str | None:
    """Why `name` cannot be one visible file or folder name (None when it can)."""
    if not name:
        return "is empty"
    if "/" in name or "\\" in name:
        return "holds a path separator ('/' or a backslash)"
    if name.startswith("."):
        return "starts with '.' (a hidden folder: readers such as eval.leaderboard skip it)"
    bad = next((ch for ch in name if ord(ch) < 32 or ord(ch) == 127), None)
    if bad is not None:
        return f"holds the control character {bad!r}"
    if _utf8_len(name) > NAME_MAX:
        return f"is {_utf8_len(name)} bytes; a file or folder name holds at most {NAME_MAX}"
    return None


def check_component(name: str, what: str) -> str:
    """`name` itself, or ValueError naming `what` (an option such as `--name`) and the reason."""
    problem = component_problem(name)
    if problem:
        shown = name if len(name) <= 80 else f"{name[:60]}... ({len(name)} characters)"
        raise ValueError(f"{what} {shown!r} {problem}; use letters, digits, '-', '_' or '.' (not first)")
    return name


def path_problem(path: str | PurePath) -> str | None:
    """Why `path` cannot be opened whatever is on disk: a NUL byte, or a component over NAME_MAX bytes."""
    text = str(path)
    if "\x00" in text:
        return "holds a NUL byte"
    longest = max(PurePath(text).parts, key=_utf8_len, default="")
    if _utf8_len(longest) > NAME_MAX:
        return f"has a component of {_utf8_len(longest)} bytes (at most {NAME_MAX})"
    return None
