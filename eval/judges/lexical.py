"""A deterministic judge with no model: token-overlap F1 between prediction and reference.

It answers in the same reply formats as the LLM judges, so the same parsers and scorers apply.
Useful offline, in CI, and as a floor; its numbers are NOT comparable with GPT-judged results.
"""

from __future__ import annotations

import re
import string
from collections import Counter

_ARTICLES = {"a", "an", "the"}
_PUNCT = str.maketrans("", "", string.punctuation)
_OPTION = re.compile(r"^\s*([A-D])\.\s*(.*)$")


def tokens(text: str) -> list[str]:
    """SQuAD-style normalisation: lower case, no punctuation, no articles."""
    return [t for t in str(text).lower().translate(_PUNCT).split() if t not in _ARTICLES]


def f1(pred: str, ref: str) -> float:
    p, r = tokens(pred), tokens(ref)
    if not p or not r:
        return float(p == r)
    common = sum((Counter(p) & Counter(r)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(r)
    return 2 * precision * recall / (precision + recall)


def lexical_reply(prompt: str, fields: dict, threshold: float = 0.5) -> str:
    """The reply an LLM judge would give to `prompt`, decided by token F1."""
    if prompt == "activitynet_qa":
        s = f1(fields["pred"], fields["answer"])
        return str({"pred": "yes" if s >= threshold else "no", "score": int(round(5 * s))})
    if prompt == "vcg_consistency":
        parts = (f1(fields["pred1"], fields["answer"]), f1(fields["pred2"], fields["answer"]),
                 f1(fields["pred1"], fields["pred2"]))
        return str({"score": int(round(5 * sum(parts) / 3))})
    if prompt.startswith("vcg_"):
        return str({"score": int(round(5 * f1(fields["pred"], fields["answer"])))})
    if prompt == "tempcompass_captioning":
        options = [m.groups() for m in map(_OPTION.match, str(fields["question"]).split("\n")) if m]
        if not options:
            return "Answer: None of the choices are correct"
        letter, text = max(options, key=lambda o: f1(fields["pred"], o[1]))
        return f"Reasoning: highest token overlap with the description.\nAnswer: {letter}. {text}"
    if prompt.startswith("tempcompass_"):
        return "Correct" if f1(fields["pred"], fields["answer"]) >= threshold else "Incorrect"
    raise KeyError(f"lexical judge has no rule for prompt {prompt!r}")


def judge_one(question: str, answer: str, pred: str, threshold: float = 0.5) -> dict:
    """One open-ended verdict {"pred", "score", "parsed"} - the shape eval/tasks/dreamframe expects."""
    from eval.judges.parsing import parse_verdict

    v = parse_verdict(lexical_reply("activitynet_qa", {"question": question, "answer": answer, "pred": pred}, threshold))
    return {"pred": v.pred, "score": v.score, "parsed": v.parsed}
