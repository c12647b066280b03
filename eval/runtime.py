"""Run-wide settings that task hooks read (lm-eval calls `process_results(doc, results)` with nothing else).

`eval.run` sets the context before lm-eval runs; task utils read the judge choice and cache folder
from it and report which judge they used and how many replies they could not parse, so the results
JSON can record both per task.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunContext:
    out_dir: Path | None = None
    """Folder of this model's results; judge caches go under it."""
    judge: str = "auto"
    """Judge asked for on the command line (`auto`: the best one available offline)."""
    judge_options: dict[str, Any] = field(default_factory=dict)
    judge_config: Any = None
    """The typed judge section (`eval.judges.JudgeConfig`) resolved from `judge` + `judge_options`: set by
    `eval.run` before anything loads; every reader takes it from here (`eval.judges.select.run_judge_config`)."""
    judges_used: dict[str, dict[str, Any]] = field(default_factory=dict)
    """task -> {"name", "model", "comparable_to_published", ...: parse_rule, prompt_sha256} as reported by the task."""
    judge_unparsable: Counter = field(default_factory=Counter)
    """task -> judge replies that were not a usable dict."""
    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


_CTX = RunContext()


def current() -> RunContext:
    return _CTX


def set_context(ctx: RunContext) -> RunContext:
    global _CTX
    _CTX = ctx
    return ctx


def note_judge(task: str, name: str, model: str | None, comparable_to_published: bool, **details: Any) -> None:
    """Record who judged `task`; `details` (parse_rule, prompt_sha256, ...) go into the results too."""
    _CTX.judges_used[task] = {"name": name, "model": model, "comparable_to_published": comparable_to_published,
                              **details}


def count_unparsable(task: str, n: int = 1) -> None:
    _CTX.judge_unparsable[task] += n
