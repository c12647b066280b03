"""lm-eval hooks of TempCompass: rule-first scoring, judge fallback once per task in the aggregation."""

from __future__ import annotations

from typing import Any

from eval.judges.runs import judged_summary
from eval.runtime import RunContext
from eval.tasks.tempcompass.scoring import score_tempcompass
from dreamframe.clip import Clip

_KEEP = ("task", "format", "video_id", "dim", "index", "fine_dim", "question", "answer", "mc_question", "mc_answer")


def doc_to_image(doc: dict[str, Any]) -> list[Clip]:
    return [Clip.from_dict(doc["video"])]


def doc_to_text(doc: dict[str, Any]) -> str:
    return doc["prompt"]


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    item = {k: doc[k] for k in _KEEP}
    item["pred"] = results[0]
    return {"acc": item, "match_rate": item}


REPLY_RULES = {"captioning": "eval_captioning.py parse_llm_output (one option letter, the right one)",
               "other": "utils/eval_utils.py llm_output_to_rating (Correct / Incorrect)",
               "lexical": "no LLM: the one option the reply names (eval/judges/named_option.py), else 0 and unmatched",
               "exact_match": "no LLM: the authors' rules only (--disable_llm), else 0 and unmatched"}


def _summary(items: list[dict[str, Any]], ctx: RunContext | None) -> dict[str, Any]:
    """Rules first, then the run's LLM judge; without one the option the reply names (`auto` / `lexical`) or
    nothing (`--judge exact_match` = the authors' --disable_llm); an unmatched reply is 0, never word overlap."""
    fmt = items[0]["format"] if items else "multi-choice"
    kind = (ctx or RunContext()).judge_section().kind
    rule = REPLY_RULES[kind] if kind != "llm" else REPLY_RULES["captioning" if fmt == "captioning" else "other"]
    return judged_summary(items, score_tempcompass, prompts=(f"tempcompass_{fmt}",), reply_rule=rule, ctx=ctx)


def agg_acc(items: list[dict[str, Any]], ctx: RunContext | None = None) -> float:
    """Accuracy in percent after rules + judge fallback."""
    acc = _summary(items, ctx).get("accuracy")
    return float("nan") if acc is None else acc


def agg_match_rate(items: list[dict[str, Any]], ctx: RunContext | None = None) -> float:
    """Percent of answers the authors' rules could match without a judge."""
    rate = _summary(items, ctx).get("match_rate")
    return float("nan") if rate is None else rate
