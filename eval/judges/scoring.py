"""Scores from verdicts: Video-ChatGPT accuracy = yes / (yes + no) in percent and mean 0-5 score,
overall and per question type, with `None` (never a ZeroDivisionError) for an empty group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from eval.judges.judge import Judge
from eval.judges.parsing import Verdict, parse_verdict

VCG_DIMENSIONS = {
    "correctness": "vcg_correctness",
    "detail": "vcg_detail",
    "context": "vcg_context",
    "temporal": "vcg_temporal",
    "consistency": "vcg_consistency",
}


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def judge_open_qa(judge: Judge, items: Sequence[dict[str, Any]]) -> list[Verdict]:
    """Judge {question, answer, pred} items with the ActivityNet-QA prompt and parse by the judge's rule."""
    fields = [{"question": i["question"], "answer": i["answer"], "pred": i["pred"]} for i in items]
    return [parse_verdict(r, judge.cfg.parse_rule, need_pred=True) for r in judge.replies("activitynet_qa", fields)]


def judge_vcg(judge: Judge, dimension: str, items: Sequence[dict[str, Any]]) -> list[Verdict]:
    """Judge VCGBench items on one dimension ({'score': n} replies)."""
    if dimension not in VCG_DIMENSIONS:
        raise KeyError(f"unknown VCGBench dimension {dimension!r}; choose one of {sorted(VCG_DIMENSIONS)}")
    replies = judge.replies(VCG_DIMENSIONS[dimension], list(items))
    return [parse_verdict(r, judge.cfg.parse_rule, need_pred=False) for r in replies]


def summarize(verdicts: Sequence[Verdict]) -> dict[str, Any]:
    """accuracy (percent yes/(yes+no)), mean score, counts; verdicts left out by the parse rule are only counted."""
    counted = [v for v in verdicts if v.counted]
    yes = sum(v.pred == "yes" for v in counted)
    no = sum(v.pred == "no" for v in counted)
    scores = [v.score for v in counted if v.score is not None]
    accuracy = _ratio(100.0 * yes, yes + no)
    return {"accuracy": accuracy, "score": _ratio(sum(scores), len(scores)), "yes": yes, "no": no,
            "n": len(verdicts), "n_scored": len(scores), "judge_unparsable": sum(not v.parsed for v in verdicts)}


def summarize_by(verdicts: Sequence[Verdict], groups: Sequence[Any], names: dict[Any, str] | None = None,
                 all_groups: Sequence[Any] = ()) -> dict[str, dict[str, Any]]:
    """`summarize` per group; groups listed in `all_groups` but absent from the data report None, not an error."""
    by: dict[Any, list[Verdict]] = defaultdict(list)
    for verdict, group in zip(verdicts, groups, strict=True):
        by[group].append(verdict)
    keys = list(dict.fromkeys([*all_groups, *by]))
    names = names or {}
    return {str(names.get(k, k)): summarize(by.get(k, [])) for k in keys}
