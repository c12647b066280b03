"""lm-eval hooks of VCGBench: the question as prompt; judging in the aggregation, once per task."""

from __future__ import annotations

from typing import Any

from eval.judges.runs import judged_summary
from eval.runtime import RunContext
from eval.tasks.vcgbench.scoring import score_consistency, score_single
from dreamframe.clip import Clip

CONSISTENCY_Q2_FROM_Q1 = True
"""Reproduce the reference script's `question2 = sample['Q1']` (see scoring.py) for comparable numbers."""


def doc_to_image(doc: dict[str, Any]) -> list[Clip]:
    return [Clip.from_dict(doc["video"])]


def doc_to_text(doc: dict[str, Any]) -> str:
    return doc["question"]


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    item = {k: doc[k] for k in ("task", "key", "which", "question", "question1", "question2", "answer")}
    item["pred"] = results[0].strip()
    if doc["split"] == "generic":
        return {"correctness": item, "detail": item, "context": item}
    return {doc["split"]: item}


def _dimension(dimension: str, items: list[dict[str, Any]], ctx: RunContext | None) -> float:
    if dimension == "consistency":
        summary = judged_summary(items, lambda j, xs: _consistency(j, xs), prompts=("vcg_consistency",), ctx=ctx)
    else:
        summary = _generic(dimension, items, ctx)
    part = summary.get(dimension) or {}
    return float("nan") if part.get("score") is None else float(part["score"])


def _consistency(judge, items: list[dict[str, Any]]) -> dict[str, Any]:
    out = score_consistency(judge, items, CONSISTENCY_Q2_FROM_Q1)
    return {"consistency": out, "judge_unparsable": out["judge_unparsable"]}


def _generic(dimension: str, items: list[dict[str, Any]], ctx: RunContext | None) -> dict[str, Any]:
    """All dimensions of one task judged in one go (one report, unparsable replies summed)."""
    dims = ("temporal",) if items and items[0]["task"] == "vcgbench_temporal" else ("correctness", "detail", "context")

    def score(judge, xs):
        out = {d: score_single(judge, d, xs) for d in dims}
        out["judge_unparsable"] = sum(out[d]["judge_unparsable"] for d in dims)
        return out

    return judged_summary(items, score, prompts=tuple(f"vcg_{d}" for d in dims), ctx=ctx)


def agg_correctness(items: list[dict[str, Any]], ctx: RunContext | None = None) -> float:
    return _dimension("correctness", items, ctx)


def agg_detail(items: list[dict[str, Any]], ctx: RunContext | None = None) -> float:
    return _dimension("detail", items, ctx)


def agg_context(items: list[dict[str, Any]], ctx: RunContext | None = None) -> float:
    return _dimension("context", items, ctx)


def agg_temporal(items: list[dict[str, Any]], ctx: RunContext | None = None) -> float:
    return _dimension("temporal", items, ctx)


def agg_consistency(items: list[dict[str, Any]], ctx: RunContext | None = None) -> float:
    return _dimension("consistency", items, ctx)
