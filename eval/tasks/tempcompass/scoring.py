"""TempCompass scoring: the authors' matching rules first, the judge only when no rule matches
(captioning is judged always: the judge answers the multi-choice question from the caption).
Accuracy per temporal dimension, per fine-grained aspect, overall, and the rule match rate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from eval.judges.judge import Judge
from eval.judges.parsing import captioning_rating, correct_incorrect


def rule_multi_choice(pred: str, answer: str) -> int | None:
    """eval_multi-choice.py: exact answer, bare letter, 'A.'-prefixed or 'A)'-prefixed prediction."""
    pred = pred.replace("</s>", "")
    if pred == answer:
        return 1
    if pred in ("A", "B", "C", "D"):
        return int(pred == answer[0])
    if any(pred.startswith(p) for p in ("A.", "B.", "C.", "D.")):
        return int(pred.split(".")[0] == answer[0])
    if any(pred.startswith(p) for p in ("A)", "B)", "C)", "D)")):
        return int(pred.split(")")[0] == answer[0])
    return None


def rule_yes_no(pred: str, answer: str) -> int | None:
    """eval_yes_no.py: the prediction starts with yes / no."""
    text = pred.replace("</s>", "").lower()
    got = "yes" if text.startswith("yes") else "no" if text.startswith("no") else None
    return None if got is None else int(got == answer)


def rule_caption_matching(pred: str, question: str, answer: str) -> int | None:
    """eval_caption_matching.py `eval_rule`: match a full option line, its sentence, or its label."""
    pred = pred.replace("</s>", "")
    option_strs = question.split("\n")[1:]
    try:
        option_sents = [opt.split(": ")[1] for opt in option_strs]
    except IndexError:
        return None
    option_inds = [opt.split(": ")[0] for opt in option_strs]
    got = None
    for s in option_strs:
        if s == pred:
            got = s
    for s in option_sents:
        if s == pred or (") " in pred and s == pred.split(") ")[1]):
            got = s
    for s in option_inds:
        if s == pred or s == pred.replace(".", ""):
            got = s
    if got is None:
        return None
    tail = answer.split(": ")[1] if ": " in answer else answer
    return int(got == answer or got == answer.split(":")[0] or got == tail)


def rate(fmt: str, pred: str, doc: dict[str, Any]) -> int | None:
    if fmt == "multi-choice":
        return rule_multi_choice(pred, doc["answer"])
    if fmt == "yes_no":
        return rule_yes_no(pred, doc["answer"])
    if fmt == "caption_matching":
        return rule_caption_matching(pred, doc["question"], doc["answer"])
    return None  # captioning: always the judge


def score_tempcompass(judge: Judge | None, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """items: docs of one format with "pred". judge=None disables the fallback (rating 0, as --disable_llm)."""
    ratings: list[int | None] = []
    matched: list[bool] = []
    for item in items:
        r = rate(item["format"], item["pred"], item)
        ratings.append(r)
        matched.append(r is not None)
    todo = [i for i, r in enumerate(ratings) if r is None]
    unparsable = 0
    if todo and judge is not None:
        fmt = items[todo[0]]["format"]
        if fmt == "captioning":
            fields = [{"pred": items[i]["pred"].replace("</s>", "").strip(), "question": items[i]["mc_question"]}
                      for i in todo]
        else:
            fields = [{"question": items[i]["question"], "answer": items[i]["answer"],
                       "pred": items[i]["pred"].replace("</s>", "")} for i in todo]
        for i, reply in zip(todo, judge.replies(f"tempcompass_{fmt}", fields)):
            if fmt == "captioning":
                ratings[i] = captioning_rating(reply, items[i]["mc_answer"]) if reply else 0
                unparsable += not reply
            else:
                got = correct_incorrect(reply)
                unparsable += got is None
                ratings[i] = got or 0
    final = [r or 0 for r in ratings]
    by_dim: dict[str, list[int]] = defaultdict(list)
    by_fine: dict[str, list[int]] = defaultdict(list)
    for item, r in zip(items, final):
        by_dim[item["dim"]].append(r)
        by_fine[item["fine_dim"]].append(r)

    def acc(xs: list[int]) -> float | None:
        return None if not xs else 100.0 * sum(xs) / len(xs)

    return {"accuracy": acc(final), "per_dimension": {k: acc(v) for k, v in by_dim.items()},
            "per_fine_dimension": {k: acc(v) for k, v in by_fine.items()},
            "match_rate": acc([int(m) for m in matched]), "judge_unparsable": unparsable, "n": len(items),
            "per_item": final}
