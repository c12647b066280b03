"""lm-eval hooks of Video-MME: README prompt, official letter extraction, per-sample accuracy."""

from __future__ import annotations

import math
from typing import Any

from eval.tasks.videomme.scoring import extract_letter
from dreamframe.clip import Clip


def doc_to_image(doc: dict[str, Any]) -> list[Clip]:
    return [Clip.from_dict(doc["video"])]


def doc_to_text(doc: dict[str, Any]) -> str:
    return doc["prompt"]


def doc_to_target(doc: dict[str, Any]) -> str:
    return doc["answer"]


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """Per-question values in percent (100 right, 0 wrong), so task and group means are percentages.
    `acc` (the official headline) leaves a reply with no A-D letter out (None); `acc_all` counts it wrong."""
    letter = extract_letter(results[0])
    correct = 100.0 * (letter == doc["answer"])
    return {"acc": correct if letter else None, "acc_all": correct, "unanswered": int(not letter)}


def mean_answered(values: list[float | None]) -> float:
    """The official figure: accuracy (percent) over questions whose reply had an A-D letter (NaN if none had)."""
    answered = [v for v in values if v is not None]
    return math.nan if not answered else sum(answered) / len(answered)


def count(values: list[int]) -> int:
    """How many questions had no extractable letter (left out of the official accuracy)."""
    return int(sum(values))
