"""Turning judge replies into verdicts, by one named rule that is recorded with the results.

- `literal_eval_whole` (Video-ChatGPT / Video-LLaVA): `ast.literal_eval` of the whole reply; a reply
  that is not a dict literal is unparsable and left out of accuracy and score (the originals retried
  such items until they parsed), and counted as `judge_unparsable`.
- `first_braces` (lmms-eval): `ast.literal_eval` of the first `{...}` in the reply; an unparsable
  reply counts as ('no', 0), and is still counted as `judge_unparsable`.
Scores are `int(score)` (truncating, as the originals do); 'yes'/'no' follow the originals' test
`"yes" in pred.lower()` then `"no" in pred.lower()`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Literal

ParseRule = Literal["literal_eval_whole", "first_braces"]
PARSE_RULES: tuple[str, ...] = ("literal_eval_whole", "first_braces")
_BRACES = re.compile(r"\{.*?\}", re.DOTALL)


@dataclass
class Verdict:
    """One judged item. `parsed` False means the reply was not a usable dict."""

    raw: str
    parsed: bool
    pred: str | None = None
    """'yes' / 'no' / None (VCGBench prompts ask only for a score)."""
    score: int | None = None
    counted: bool = True
    """Whether the item enters accuracy and mean score under the parse rule."""

    def as_dict(self) -> dict:
        return {"raw": self.raw, "parsed": self.parsed, "pred": self.pred, "score": self.score,
                "counted": self.counted}


def _literal_dict(text: str) -> dict | None:
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _yes_no(value: object) -> str | None:
    text = str(value).lower()
    if "yes" in text:
        return "yes"
    if "no" in text:
        return "no"
    return None


def parse_verdict(raw: str, rule: ParseRule = "literal_eval_whole", need_pred: bool = True) -> Verdict:
    """Parse one reply to the Video-ChatGPT judge prompts ({'pred': ..., 'score': ...} or {'score': ...})."""
    if rule not in PARSE_RULES:
        raise ValueError(f"unknown parse rule {rule!r}; choose one of {PARSE_RULES}")
    raw = raw if isinstance(raw, str) else str(raw)
    if rule == "literal_eval_whole":
        data = _literal_dict(raw)
    else:
        match = _BRACES.search(raw)
        data = _literal_dict(match.group(0)) if match else None
    verdict = _from_dict(raw, data, need_pred)
    if not verdict.parsed:
        verdict.counted = rule == "first_braces"
        if verdict.counted:
            verdict.pred, verdict.score = ("no" if need_pred else None), 0
    return verdict


def _from_dict(raw: str, data: dict | None, need_pred: bool) -> Verdict:
    if data is None or "score" not in data:
        return Verdict(raw=raw, parsed=False)
    try:
        score = int(float(data["score"])) if isinstance(data["score"], str) else int(data["score"])
    except (TypeError, ValueError, OverflowError):
        return Verdict(raw=raw, parsed=False)
    pred = None
    if need_pred:
        if "pred" not in data:
            return Verdict(raw=raw, parsed=False)
        pred = _yes_no(data["pred"])
    return Verdict(raw=raw, parsed=True, pred=pred, score=score)


def correct_incorrect(raw: str) -> int | None:
    """TempCompass `llm_output_to_rating`: 1 / 0, or None when the reply names neither."""
    if "Correct" not in raw and "Incorrect" not in raw:
        return None
    if raw.startswith("Correct"):
        return 1
    if raw.startswith("Incorrect"):
        return 0
    return 1 if "Incorrect" not in raw else 0


def captioning_rating(raw: str, gt_answer: str) -> int:
    """TempCompass `eval_captioning.parse_llm_output`: 1 when the judge picked the right option, once."""
    answer = None
    for line in raw.split("\n"):
        line = line.strip()
        if "Answer" in line:
            answer = line.replace("Answer:", "").strip()
    answer = raw if answer is None else answer
    count = sum(answer.count(p) for p in ("A.", "B.", "C.", "D."))
    return int(answer.split(". ")[0] == gt_answer.split(". ")[0] and count == 1)
