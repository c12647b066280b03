"""lm-eval hooks of TempCompass: rule-first scoring, judge fallback once per task in the aggregation."""

from __future__ import annotations

from typing import Any

from eval import runtime
from eval.judges.runs import judged_summary
from eval.tasks.tempcompass.scoring import score_tempcompass
from eval.video import VideoRef

_KEEP = ("task", "format", "video_id", "dim", "fine_dim", "question", "answer", "mc_question", "mc_answer")


def doc_to_image(doc: dict[str, Any]) -> list[VideoRef]:
    return [VideoRef.from_dict(doc["video"])]


def doc_to_text(doc: dict[str, Any]) -> str:
    return doc["prompt"]


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    item = {k: doc[k] for k in _KEEP}
    item["pred"] = results[0]
    return {"acc": item, "match_rate": item}


def _summary(items: list[dict[str, Any]]) -> dict[str, Any]:
    disabled = runtime.current().judge in ("exact_match", "none")
    return judged_summary(items, lambda judge, xs: score_tempcompass(None if disabled else judge, xs))


def agg_acc(items: list[dict[str, Any]]) -> float:
    """Accuracy in percent after rules + judge fallback."""
    acc = _summary(items).get("accuracy")
    return float("nan") if acc is None else acc


def agg_match_rate(items: list[dict[str, Any]]) -> float:
    """Percent of answers the authors' rules could match without a judge."""
    rate = _summary(items).get("match_rate")
    return float("nan") if rate is None else rate
