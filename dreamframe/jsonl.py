"""JSON Lines files as (line number, row) pairs: lm-eval's sample logs, prediction files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def read_jsonl(path: str | Path, error: type[Exception] = ValueError) -> Iterator[tuple[int, Any]]:
    """Each non-blank line's number (from 1) and parsed value; a line that is not JSON raises `error`
    naming the file and the line, so a damaged log is found by its place, not by a bare decoder message."""
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as err:
                raise error(f"{path}:{lineno}: not valid JSON ({err})") from None
