"""lm-eval hooks of the open-ended QA tasks: the question as prompt, judged in one batch per task.

`process_results` only hands each answer on; the aggregation judges all of a task's answers at once
(concurrent, cached under <out>/judge_cache), records the judge and its unparsable replies in the
run context, and writes the per-type report to <out>/judge_reports/<task>.json.
"""

from __future__ import annotations

from typing import Any

from eval.judges.runs import judged_summary
from eval.runtime import RunContext
from eval.tasks.open_qa.scoring import score_open_qa
from dreamframe.clip import Clip


def doc_to_image(doc: dict[str, Any]) -> list[Clip]:
    return [Clip.from_dict(doc["video"])]


def doc_to_text(doc: dict[str, Any]) -> str:
    return doc["question"]


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    item = {"task": doc["task"], "question_id": doc["question_id"], "question": doc["question"],
            "answer": doc["answer"], "type": doc["type"], "pred": results[0].strip()}
    return {"accuracy": item, "score": item}


def _summary(items: list[dict[str, Any]], ctx: RunContext | None) -> dict[str, Any]:
    return judged_summary(items, lambda judge, xs: score_open_qa(judge, xs, xs[0]["task"] if xs else None),
                          prompts=("activitynet_qa",), ctx=ctx)


def agg_accuracy(items: list[dict[str, Any]], ctx: RunContext | None = None) -> float:
    """Judge accuracy in percent (yes / (yes + no)); NaN when nothing could be judged."""
    acc = _summary(items, ctx)["accuracy"]
    return float("nan") if acc is None else float(acc)


def agg_score(items: list[dict[str, Any]], ctx: RunContext | None = None) -> float:
    score = _summary(items, ctx)["score"]
    return float("nan") if score is None else float(score)
