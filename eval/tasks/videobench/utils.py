"""lm-eval hooks of Video-Bench: the README prompt; replies mapped to letters once per task, in the aggregation."""

from __future__ import annotations

from typing import Any

from eval.judges.runs import judged_summary
from eval.runtime import RunContext
from eval.tasks.videobench.scoring import REPLY_RULE, score_videobench
from dreamframe.clip import Clip

_KEEP = ("task", "qid", "prompt", "choices", "answer")


def doc_to_image(doc: dict[str, Any]) -> list[Clip]:
    return [Clip.from_dict(doc["video"])]


def doc_to_text(doc: dict[str, Any]) -> str:
    return doc["prompt"]


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    return {"acc": {**{k: doc[k] for k in _KEEP}, "pred": results[0]}}


def agg_acc(items: list[dict[str, Any]], ctx: RunContext | None = None) -> float:
    """Percent of mapped replies whose letter is the answer (the dataset score of Step3_compute_scores.py)."""
    summary = judged_summary(items, score_videobench, prompts=("videobench",), reply_rule=REPLY_RULE, ctx=ctx)
    acc = summary.get("accuracy")
    return float("nan") if acc is None else float(acc)
