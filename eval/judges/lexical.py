"""Deterministic judges with no model: token-overlap F1 (lexical) and normalised exact match.

Token F1 decides only open-ended verdicts (ActivityNet-QA style, VCGBench). Multiple-choice replies
(Video-Bench here; TempCompass in its scorer) are matched to the one option they name
(`eval/judges/named_option.py`), never to the option sharing most words.

They answer in the same reply formats as the LLM judges, so the same parsers and scorers apply.
Useful offline, in CI, and as a floor; their numbers are NOT comparable with GPT-judged results.

VCGBench consistency asks whether "both predicted answers correspond to the correct answer and to
each other" (the prompt's instructions): the lexical score is 5 x the weakest of the three
agreements (answer 1 vs reference, answer 2 vs reference, answer 1 vs answer 2), so two identical
wrong answers score 0, and two right answers that contradict each other do too.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter

from eval.judges.named_option import named_option

_ARTICLES = {"a", "an", "the"}
_PUNCT = str.maketrans("", "", string.punctuation)


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
        return str({"score": int(round(5 * min(parts)))})
    if prompt.startswith("vcg_"):
        return str({"score": int(round(5 * f1(fields["pred"], fields["answer"])))})
    if prompt == "videobench":  # the one option the reply names; none or several: null (never word overlap)
        choices = list(dict(fields["choices"]).items())
        got = named_option(fields["pred"], choices)
        return json.dumps({"maximum probability": None if got is None else choices[got][0]})
    raise KeyError(f"lexical judge has no rule for prompt {prompt!r}")


def normalise_exact(text: str) -> str:
    """Lower case, single spaces, no trailing period: what `--judge exact_match` compares."""
    return re.sub(r"\.+$", "", " ".join(str(text).lower().split())).strip()


def exact_match_reply(prompt: str, fields: dict) -> str:
    """The reply an LLM judge would give to `prompt`, decided by normalised exact match with the reference."""
    same = normalise_exact(fields.get("pred", "")) == normalise_exact(fields["answer"])
    if prompt == "activitynet_qa":
        return str({"pred": "yes" if same else "no", "score": 5 if same else 0})
    if prompt == "vcg_consistency":
        both = normalise_exact(fields["pred1"]) == normalise_exact(fields["pred2"]) == normalise_exact(fields["answer"])
        return str({"score": 5 if both else 0})
    if prompt.startswith("vcg_"):
        return str({"score": 5 if same else 0})
    raise KeyError(f"exact_match judge has no rule for prompt {prompt!r} (that benchmark scores by its own rules)")
