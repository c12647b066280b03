"""Open-ended QA scores: judge accuracy (yes/(yes+no)) and mean 0-5 score, overall and per type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eval.judges.judge import Judge
from eval.judges.scoring import judge_open_qa, summarize, summarize_by
from eval.tasks.open_qa.loader import BENCHMARKS


def score_open_qa(judge: Judge, items: Sequence[dict[str, Any]], benchmark: str | None = None) -> dict[str, Any]:
    """items: docs of `load_open_qa` with the model's answer in "pred". Types absent from the
    items still appear per type, with None scores (a subset never divides by zero)."""
    verdicts = judge_open_qa(judge, items)
    out = summarize(verdicts)
    names = BENCHMARKS[benchmark].type_names if benchmark in BENCHMARKS else {}
    out["per_type"] = summarize_by(verdicts, [i.get("type", -1) for i in items], names, all_groups=list(names))
    out["per_item"] = {str(i.get("question_id", n)): v.as_dict() for n, (i, v) in enumerate(zip(items, verdicts))}
    return out
