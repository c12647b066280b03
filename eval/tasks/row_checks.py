"""Benchmark rows that cannot be scored safely, skipped and counted one by one, never the whole benchmark.

A 10,000-character question aborted the whole eval (the model's length check named `sample '0'` of a
batch, not the question); a `video_name` over 255 bytes aborted the benchmark with "File name too long";
one leading outside the benchmark folder was counted only when loading. Each such row is now left out
when the tasks are written, counted per task and kind, and named (benchmark, task, item id) on stderr
and in the results (`dreamframe.skipped_items`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dreamframe.clip import inside
from dreamframe.path_names import path_problem

EXAMPLES = 20
"""Skipped items named per task (all are counted)."""
ID_KEYS = ("question_id", "qid", "id", "key")


@dataclass
class Skipped:
    """The rows of one task left out, by kind, with the first EXAMPLES named."""

    counts: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "examples": list(self.examples)}


def row_id(row: dict[str, Any], index: int) -> str:
    """The item's id in its benchmark's own terms (question_id, qid, id or key), else its position."""
    return next((str(row[k]) for k in ID_KEYS if row.get(k) not in (None, "")), f"#{index}")


def _short(text: str, keep: int = 80, tail: bool = False) -> str:
    """`text` cut to `keep` characters (its end for a path: where the item's own name is) for a message."""
    if len(text) <= keep:
        return text
    return f"...{text[-keep:]} ({len(text)} characters)" if tail else f"{text[:keep]}... ({len(text)} characters)"


def row_problem(row: dict[str, Any], root: Path, max_question_chars: int | None) -> tuple[str, str] | None:
    """(kind, why) when the row cannot be scored safely, else None."""
    question = str(row.get("question") or "")
    if max_question_chars and len(question) > max_question_chars:
        return "question_too_long", (f"question of {len(question)} characters > --max_question_chars "
                                     f"{max_question_chars} ({question[:60]!r}...)")
    path = str(row["video"]["path"])
    problem = path_problem(path)
    if problem:
        return "video_name_unusable", f"video path {_short(path, tail=True)!r} {problem}"
    if not inside(Path(path), root):
        return "video_outside_folder", f"video path {path!r} leads outside the benchmark folder {root}"
    return None


def drop_unusable(bench: str, task: str, rows: list[dict[str, Any]], root: Path,
                  max_question_chars: int | None) -> tuple[list[dict[str, Any]], Skipped]:
    """(the rows that can be scored, what was left out and why)."""
    kept, skipped = [], Skipped()
    label = task if bench in ("", task) else f"{bench} {task}"
    for i, row in enumerate(rows):
        found = row_problem(row, root, max_question_chars)
        if found is None:
            kept.append(row)
            continue
        kind, why = found
        skipped.counts[kind] += 1
        if len(skipped.examples) < EXAMPLES:
            skipped.examples.append(f"{label} item {row_id(row, i)}: {why}; skipped")
    return kept, skipped
