"""VCGBench scores: the five 0-5 judge dimensions, mean per dimension (None when nothing was scored).

Consistency: the reference script builds `question2 = sample['Q1']` (so the judge sees Q1 twice);
`consistency_q2_from_q1=True` reproduces that for comparable numbers, False sends the real Q2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eval.judges.judge import Judge
from eval.judges.scoring import judge_vcg, summarize


def score_single(judge: Judge, dimension: str, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """items: {key, question, answer, pred} from generic (correctness/detail/context) or temporal docs."""
    fields = [{"question": i["question"], "answer": i["answer"], "pred": i["pred"]} for i in items]
    verdicts = judge_vcg(judge, dimension, fields)
    out = summarize(verdicts)
    out["per_item"] = {i["key"]: v.as_dict() for i, v in zip(items, verdicts)}
    return out


def pair_consistency(items: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Join the Q1 and Q2 answers of each key; returns (pairs, keys lacking one of the two answers)."""
    by_key: dict[str, dict[str, Any]] = {}
    for item in items:
        entry = by_key.setdefault(item["key"], {"key": item["key"], "question1": item["question1"],
                                                 "question2": item["question2"], "answer": item["answer"]})
        entry[f"pred{item['which']}"] = item["pred"]
    pairs = [e for e in by_key.values() if "pred1" in e and "pred2" in e]
    return pairs, len(by_key) - len(pairs)


def score_consistency(judge: Judge, items: Sequence[dict[str, Any]], q2_from_q1: bool = True) -> dict[str, Any]:
    pairs, incomplete = pair_consistency(items)
    fields = [{"question1": p["question1"], "question2": p["question1"] if q2_from_q1 else p["question2"],
               "answer": p["answer"], "pred1": p["pred1"], "pred2": p["pred2"]} for p in pairs]
    verdicts = judge_vcg(judge, "consistency", fields)
    out = summarize(verdicts)
    out.update(incomplete_pairs=incomplete, q2_from_q1=q2_from_q1,
               per_item={p["key"]: v.as_dict() for p, v in zip(pairs, verdicts)})
    return out
