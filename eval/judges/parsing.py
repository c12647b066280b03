"""Turning judge replies into verdicts, by one named rule that is recorded with the results.

Each rule reproduces one reference scorer of the Video-ChatGPT prompts ({'pred': 'yes'|'no', 'score': n}
or {'score': n}); tests/eval/benchmarks/test_parse_rules.py holds each one's cases:
- `literal_eval_whole`: Video-LLaVA `videollava/eval/video/eval_video_qa.py` (PKU-YuanGroup/Video-LLaVA
  @984e65b, the MSVD/MSRVTT/TGIF/ActivityNet-QA script). `ast.literal_eval` of the whole reply; a reply
  that does not parse is never stored (the script re-asks until it parses) - here it is left out and
  counted `judge_unparsable`. A parsed one is kept: `int(score)` (a float 4.8 -> 4, the string "4.8" raises
  -> 0 points, out of accuracy, as its try/except does), then yes/no by `"yes" in pred.lower()` /
  `"no" in ...`; the mean score divides by every kept reply.
- `lmms_eval`: lmms-eval >= 0.3.0 (7a191d22 to 75571cf, `tasks/activitynetqa/utils.py parse_score`):
  the text between the first '{' and the next '}' with the braces put back (an unclosed brace is closed),
  `int(score)`, pred mapped to yes/no by substring; anything else makes lmms-eval fail (parse_score returns
  None, process_results subscripts it): here `JudgeReplyError`. Score-only prompts (VCGBench) follow its
  `tasks/videochatgpt/utils.py parse_score`: whole reply, `int(score)`, unparsable = 0.
- `lmms_eval_0_2`: lmms-eval 0.2.0 - 0.2.4 (08638149 to v0.2.4): the whole reply, `pred.get('pred', 'no')`,
  `float(score)` (the string "4.8" -> 4.8, summed unrounded), anything unparsable = ('no', 0); accuracy
  counts `Correctness == "yes"` exactly ('Yes' counts as no). Score-only prompts as `lmms_eval`.
- `first_braces`: this project's lenient rule for chatty local judges (no reference script): the first
  `{...}` read with `ast.literal_eval`; an unparsable reply counts as ('no', 0).
Every rule counts unparsable replies in `dreamframe.errors.<task>.judge_unparsable`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any, Literal

ParseRule = Literal["literal_eval_whole", "lmms_eval", "lmms_eval_0_2", "first_braces"]
PARSE_RULES: tuple[str, ...] = ("literal_eval_whole", "lmms_eval", "lmms_eval_0_2", "first_braces")
_BRACES = re.compile(r"\{.*?\}", re.DOTALL)
_FAILS = (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, KeyError, IndexError, AttributeError,
          OverflowError)


class JudgeReplyError(ValueError):
    """A judge reply the `lmms_eval` rule cannot read: lmms-eval itself stops there."""


@dataclass
class Verdict:
    """One judged item. `parsed` False means the reply was not a usable verdict."""

    raw: str
    parsed: bool
    pred: str | None = None
    """'yes' / 'no' / None (VCGBench prompts ask only for a score; a malformed verdict has none)."""
    score: float | None = None
    counted: bool = True
    """Whether the item enters the mean score (and, with a yes/no pred, accuracy) under the parse rule."""

    def as_dict(self) -> dict:
        return {"raw": self.raw, "parsed": self.parsed, "pred": self.pred, "score": self.score,
                "counted": self.counted}


def _literal(text: str) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(text)
    except _FAILS:
        return False, None


def _yes_no(value: object) -> str | None:
    text = value.lower()  # type: ignore[attr-defined]
    return "yes" if "yes" in text else "no" if "no" in text else None


def _video_llava(raw: str, need_pred: bool) -> Verdict:
    """eval_video_qa.py: parse the whole reply; a parsed reply is kept, a malformed one with 0 points."""
    ok, value = _literal(raw)
    if not ok:
        return Verdict(raw=raw, parsed=False, counted=False)
    try:
        score = int(value["score"])
    except _FAILS:
        return Verdict(raw=raw, parsed=False, score=0)
    if not need_pred:
        return Verdict(raw=raw, parsed=True, score=score)
    try:
        return Verdict(raw=raw, parsed=True, pred=_yes_no(value["pred"]), score=score)
    except _FAILS:
        return Verdict(raw=raw, parsed=False, score=score)


def _lmms_eval(raw: str) -> Verdict:
    """lmms-eval >= 0.3 activitynetqa parse_score, or its failure."""
    try:
        value = ast.literal_eval("{" + raw.split("{")[1].split("}")[0] + "}")
        score = int(value["score"])
        pred = _yes_no(value["pred"])  # a pred naming neither stays itself in lmms-eval: in neither count
    except _FAILS as err:
        raise JudgeReplyError(f"judge reply {raw[:200]!r} cannot be read by lmms-eval's parse_score "
                              f"({type(err).__name__}: {err}); lmms-eval stops here. Use parse_rule "
                              "literal_eval_whole / lmms_eval_0_2 / first_braces to go on") from None
    return Verdict(raw=raw, parsed=True, pred=pred, score=score)


def _lmms_eval_0_2(raw: str) -> Verdict:
    try:
        value = ast.literal_eval(raw)
        pred, score = value.get("pred", "no"), float(value.get("score", 0))
    except _FAILS:
        return Verdict(raw=raw, parsed=False, pred="no", score=0)
    return Verdict(raw=raw, parsed=True, pred="yes" if pred == "yes" else "no", score=score)


def _lmms_eval_score_only(raw: str) -> Verdict:
    """lmms-eval videochatgpt parse_score (every version): whole reply, int(score), unparsable = 0."""
    try:
        return Verdict(raw=raw, parsed=True, score=int(ast.literal_eval(raw).get("score", 0)))
    except _FAILS:
        return Verdict(raw=raw, parsed=False, score=0)


def _first_braces(raw: str, need_pred: bool) -> Verdict:
    """This project's lenient rule: the first {...}; a string score is read as a number; unparsable = ('no', 0)."""
    match = _BRACES.search(raw)
    _, value = _literal(match.group(0)) if match else (False, None)
    try:
        score = int(float(value["score"])) if isinstance(value["score"], str) else int(value["score"])
        pred = _yes_no(value["pred"]) if need_pred else None
        return Verdict(raw=raw, parsed=True, pred=pred, score=score)
    except _FAILS:
        return Verdict(raw=raw, parsed=False, pred="no" if need_pred else None, score=0)


def parse_verdict(raw: str, rule: ParseRule = "literal_eval_whole", need_pred: bool = True) -> Verdict:
    """Parse one reply to the Video-ChatGPT judge prompts by `rule` (see the module docstring)."""
    if rule not in PARSE_RULES:
        raise ValueError(f"unknown parse rule {rule!r}; choose one of {PARSE_RULES}")
    raw = raw if isinstance(raw, str) else str(raw)
    if rule == "literal_eval_whole":
        return _video_llava(raw, need_pred)
    if rule == "first_braces":
        return _first_braces(raw, need_pred)
    if not need_pred:
        return _lmms_eval_score_only(raw)
    return _lmms_eval(raw) if rule == "lmms_eval" else _lmms_eval_0_2(raw)


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
