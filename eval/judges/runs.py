"""Judging inside an lm-eval run: once per task, over all its answers, from the aggregation step.

lm-eval calls each metric's aggregation with the per-sample values `process_results` returned; for
judged metrics those values are the items to judge. The first aggregation of a task judges them all
(batched and concurrent, verdicts cached), later ones (other metrics of the same task) reuse the
summary. The judge and its unparsable replies are reported to `eval.runtime`, and the full summary
(per type, per item verdicts) is written to `<out>/judge_reports/<task>.json`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval.judges.judge import Judge

_DONE: dict[str, dict[str, Any]] = {}


def _fingerprint(items: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()


def judged_summary(items: list[dict[str, Any]], score: Callable[[Judge, list[dict[str, Any]]], dict[str, Any]],
                   prompts: tuple[str, ...] = (), reply_rule: str | None = None,
                   judge: Judge | None = None) -> dict[str, Any]:
    """`score(judge, items)` for one task, computed once; items carry their lm-eval task name in "task".
    `prompts` are the judge prompts the task uses (their pins decide `comparable_to_published`);
    `reply_rule` names how the task reads judge replies when it is not the judge's dict `parse_rule`."""
    from eval import runtime
    from eval.judges.select import run_judge

    task = items[0]["task"] if items else "unknown"
    judge = judge or run_judge()
    key = f"{task}:{id(judge)}:{_fingerprint(items)}"
    if key in _DONE:
        return _DONE[key]
    failures_before = len(getattr(judge, "failures", []))
    summary = score(judge, items) if items else {}
    failed = getattr(judge, "failures", [])[failures_before:]
    if failed:
        summary = {**summary, "judge_request_errors": len(failed), "judge_last_error": failed[-1]}
        runtime.current().notes[task].append(f"{len(failed)} judge request(s) failed: {failed[-1]}")
    record = judge.record(prompts)
    if reply_rule is not None:
        record["parse_rule"] = reply_rule
    runtime.note_judge(task, record["name"], record["model"], record["comparable_to_published"],
                       judge_parse_rule=record["parse_rule"], prompt_sha256=record["prompt_sha256"])
    unparsable = int(summary.get("judge_unparsable", 0) or 0)
    if unparsable:
        runtime.count_unparsable(task, unparsable)
    summary = {**summary, "judge": record}
    out_dir = runtime.current().out_dir
    if out_dir is not None:
        from dreamframe.atomic import atomic_write_text

        atomic_write_text(Path(out_dir) / "judge_reports" / f"{task}.json",
                          json.dumps(summary, indent=1, ensure_ascii=False, default=str))
    _DONE[key] = summary
    return summary
