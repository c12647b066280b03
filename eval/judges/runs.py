"""Judging inside an lm-eval run: once per task, over all its answers, from the aggregation step.

lm-eval calls each metric's aggregation with the per-sample values `process_results` returned; for
judged metrics those values are the items to judge. The first aggregation of a task judges them all
(batched and concurrent, verdicts cached), later ones (other metrics of the same task) reuse the
summary. Each reports to the run's context (eval/runtime.py) who judged, the unparsable replies, and the
full summary (per type, per item verdicts), which the context writes to `<out>/judge_reports/<task>.json`
and names in the task's results record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from eval.judges.judge import Judge
from eval.results import JudgeRecord
from eval.runtime import RunContext

JUDGE_FIELDS = ("name", "model", "comparable_to_published", "parse_rule", "prompt_sha256")

_DONE: dict[str, dict[str, Any]] = {}


def _fingerprint(items: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()


def judged_summary(items: list[dict[str, Any]], score: Callable[[Judge, list[dict[str, Any]]], dict[str, Any]],
                   prompts: tuple[str, ...] = (), reply_rule: str | None = None,
                   ctx: RunContext | None = None) -> dict[str, Any]:
    """`score(judge, items)` for one task with the run's judge, computed once; items carry their lm-eval task
    name in "task". `prompts` are the judge prompts the task uses (their pins decide
    `comparable_to_published`); `reply_rule` names how the task reads judge replies when it is not the
    judge's dict `parse_rule`. `ctx`: the run's context (a default one outside eval.run)."""
    ctx = ctx or RunContext()
    task = items[0]["task"] if items else "unknown"
    judge = ctx.judge()
    key = f"{task}:{id(judge)}:{_fingerprint(items)}"
    if key not in _DONE:
        _DONE[key] = _judge_task(judge, items, score, prompts, reply_rule)
    summary = _DONE[key]
    ctx.record_judged(task, summary, JudgeRecord(**{k: summary["judge"][k] for k in JUDGE_FIELDS}))
    return summary


def _judge_task(judge: Judge, items: list[dict[str, Any]], score: Callable, prompts: tuple[str, ...],
                reply_rule: str | None) -> dict[str, Any]:
    failures_before = len(getattr(judge, "failures", []))
    summary = score(judge, items) if items else {}
    failed = getattr(judge, "failures", [])[failures_before:]
    if failed:
        summary = {**summary, "judge_request_errors": len(failed), "judge_last_error": failed[-1]}
    record = judge.record(prompts)
    if reply_rule is not None:
        record["parse_rule"] = reply_rule
    return {**summary, "judge": record}
