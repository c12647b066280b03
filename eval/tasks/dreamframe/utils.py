"""Prompts and scoring of the DreamFrame held-out tasks."""

from __future__ import annotations

from typing import Any

from dreamframe import scoring
from dreamframe.clip import Clip
from dreamframe.prompts import question_text
from eval.judges.select import rules_only
from eval.results import JudgeRecord
from eval.runtime import RunContext
from eval.tasks.common import normalise_answer

OPEN_PROMPT = "\nAnswer the question in one sentence."
OPEN_TASK = "dreamframe_heldout_open"


def doc_to_image(doc: dict[str, Any]) -> list[Clip]:
    return [Clip.from_dict(doc["video"])]


def doc_to_text_closed(doc: dict[str, Any]) -> str:
    return question_text(doc["question"], doc["options"])


def doc_to_text_open(doc: dict[str, Any]) -> str:
    return f"{doc['question']}{OPEN_PROMPT}"


def doc_to_target_index(doc: dict[str, Any]) -> int:
    return list(doc["options"]).index(doc["answer"])


def process_results_choice(doc: dict[str, Any], results: list[tuple[float, bool]]) -> dict[str, float]:
    """acc / acc_norm of one question from its options' log-likelihoods (lm-eval's multiple-choice rule)."""
    metrics = scoring.closed_metrics(doc["options"], doc["answer"], logliks=[ll for ll, _ in results])
    return {"acc": 100.0 * metrics["acc"], "acc_norm": 100.0 * metrics["acc_norm"]}  # percent, like every benchmark


def process_results_free(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    return {"free_acc": 100.0 * scoring.closed_metrics(doc["options"], doc["answer"], free=results[0])["free_acc"]}


def process_results_open(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """Hand the answer on; the aggregation judges all of the task's answers at once."""
    item = {"task": OPEN_TASK, "question_id": doc["id"], "question": doc["question"], "answer": doc["answer"],
            "type": doc["qa_type"], "pred": results[0].strip()}
    return {"acc": item, "score": item}


def agg_acc(items: list[dict[str, Any]], ctx: RunContext | None = None) -> float:
    """Judge accuracy yes / (yes + no) in percent (the group averages it with the closed accuracy)."""
    acc = _summary(items, ctx)["accuracy"]
    return float("nan") if acc is None else float(acc)


def agg_score(items: list[dict[str, Any]], ctx: RunContext | None = None) -> float:
    """Mean 0-5 judge score (exact-match fallback: 5 for a match, 0 otherwise)."""
    score = _summary(items, ctx)["score"]
    return float("nan") if score is None else float(score)


def _summary(items: list[dict[str, Any]], ctx: RunContext | None) -> dict[str, Any]:
    """The run's judge (eval.judges, batched and cached) or, with --judge exact_match, normalised
    exact match, recorded as `exact_match_fallback`."""
    ctx = ctx or RunContext()
    if not rules_only(ctx.judge_section()):
        from eval.judges.runs import judged_summary
        from eval.tasks.open_qa.scoring import score_open_qa

        return judged_summary(items, lambda judge, xs: score_open_qa(judge, xs), ctx=ctx)
    hits = [bool(i["pred"]) and normalise_answer(i["pred"]) == normalise_answer(i["answer"]) for i in items]
    ctx.note_judge(OPEN_TASK, JudgeRecord(name="exact_match_fallback", comparable_to_published=False))
    n = len(hits)
    return {"accuracy": 100.0 * sum(hits) / n if n else None, "score": 5.0 * sum(hits) / n if n else None}
