"""Helpers shared by benchmark task folders: option letters, answer matching, JSON reading with clear errors."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

LETTERS = string.ascii_uppercase


class BenchmarkDataError(ValueError):
    """An annotation file that does not fit the benchmark's official layout; names the file and item."""


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise BenchmarkDataError(f"{path}: annotation file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BenchmarkDataError(f"{path}: not valid JSON: {err}") from None


_LETTER_RE = re.compile(r"\(?\b([A-Z])\b\)?")


def first_option_letter(text: str, n_options: int) -> str | None:
    """The first standalone capital letter among the first `n_options` letters, e.g. 'B' in '(B) a dog'."""
    valid = LETTERS[:n_options]
    for m in _LETTER_RE.finditer(text.strip()):
        if m.group(1) in valid:
            return m.group(1)
    return None


def normalise_answer(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (SQuAD-style, the lexical judge's tokens)."""
    from eval.judges.lexical import tokens

    return " ".join(tokens(text))
