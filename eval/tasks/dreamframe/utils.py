"""Prompts and scoring of the DreamFrame held-out tasks."""

from __future__ import annotations

from typing import Any

from eval import runtime
from eval.tasks.common import first_option_letter, normalise_answer, options_block
from eval.video import VideoRef

CLOSED_PROMPT = "\nAnswer with the option's letter from the given choices directly."
OPEN_PROMPT = "\nAnswer the question in one sentence."


def doc_to_image(doc: dict[str, Any]) -> list[VideoRef]:
    return [VideoRef.from_dict(doc["video"])]


def doc_to_text_closed(doc: dict[str, Any]) -> str:
    return f"{doc['question']}\nOptions:\n{options_block(doc['options'])}{CLOSED_PROMPT}"


def doc_to_text_open(doc: dict[str, Any]) -> str:
    return f"{doc['question']}{OPEN_PROMPT}"


def closed_correct(pred: str, doc: dict[str, Any]) -> bool:
    """Right when the first option letter in the answer is the gold one, or the answer is the gold option's text."""
    letter = first_option_letter(pred, len(doc["options"]))
    if letter is not None:
        return letter == doc["answer_letter"]
    return normalise_answer(pred) == normalise_answer(doc["answer"])


def process_results_closed(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    return {"acc": float(closed_correct(results[0], doc))}


def process_results_open(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Judge the answer; without a judge, normalised exact match (labelled as such in the results)."""
    pred = results[0]
    judge = _judge()
    if judge is None:
        runtime.note_judge("dreamframe_heldout_open", "exact_match_fallback", None, comparable_to_published=False)
        return {"acc": float(bool(pred.strip()) and normalise_answer(pred) == normalise_answer(doc["answer"]))}
    name, fn = judge
    verdict = fn(doc["question"], doc["answer"], pred)
    runtime.note_judge("dreamframe_heldout_open", name, None, comparable_to_published=False)
    if not verdict.get("parsed", True):
        runtime.count_unparsable("dreamframe_heldout_open")
    return {"acc": float(verdict.get("pred") == "yes")}


def _judge():
    """(name, fn(question, answer, pred) -> {"pred": "yes"|"no", "score": int, "parsed": bool}) or None."""
    if runtime.current().judge in ("exact_match", "none"):
        return None
    try:  # D2's deterministic lexical judge, when it has landed
        from eval.judges.lexical import judge_one  # type: ignore[import-not-found]
    except ImportError:
        return None
    return "lexical", judge_one
