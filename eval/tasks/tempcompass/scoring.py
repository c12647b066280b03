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


def clean(pred: str | None) -> str | None:
    """What every eval_<format>.py does to a prediction first: drop '</s>', strip (None stays None: rating 0)."""
    return None if pred is None else pred.replace("</s>", "").strip()


def rule_multi_choice(pred: str, answer: str) -> int | None:
    """eval_multi-choice.py: exact answer, bare letter, 'A.'-prefixed or 'A)'-prefixed prediction."""
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
    """eval_yes_no.py `extract_pred`: the prediction starts with yes / no (any case)."""
    text = pred.lower()
    got = "yes" if text.startswith("yes") else "no" if text.startswith("no") else None
    return None if got is None else int(got == answer)


def rule_caption_matching(pred: str, question: str, answer: str) -> int | None:
    """eval_caption_matching.py `eval_rule`: a full option line, its sentence, or its label ('Caption A' or 'A').

    The original raises IndexError on an option line without ': '; here that question goes to the judge."""
    option_strs = question.split("\n")[1:]
    if not all(": " in opt for opt in option_strs) or ": " not in answer or " " not in answer.split(": ")[0]:
        return None
    option_sents = [opt.split(": ")[1] for opt in option_strs]
    option_inds = [opt.split(": ")[0] for opt in option_strs] + [
        opt.split(": ")[0].replace("Sentence ", "").replace("Option ", "").replace("Caption ", "") for opt in option_strs]
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
    return int(got == answer or got == answer.split(":")[0] or got == answer.split(": ")[1]
               or got == answer.split(": ")[0].split()[1])


def rate(fmt: str, pred: str, doc: dict[str, Any]) -> int | None:
    """The authors' rule rating of a cleaned prediction: 1 / 0, or None when no rule matches."""
    if fmt == "multi-choice":
        return rule_multi_choice(pred, doc["answer"])
    if fmt == "yes_no":
        return rule_yes_no(pred, doc["answer"])
    if fmt == "caption_matching":
        return rule_caption_matching(pred, doc["question"], doc["answer"])
    return None  # captioning: always the judge


def score_tempcompass(judge: Judge | None, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """items: docs of one format with "pred". judge=None disables the fallback (rating 0, as --disable_llm)."""
    preds = [clean(item["pred"]) for item in items]
    ratings: list[int | None] = [0 if p is None else rate(item["format"], p, item) for item, p in zip(items, preds)]
    matched = [r is not None and p is not None for r, p in zip(ratings, preds)]
    todo = [i for i, r in enumerate(ratings) if r is None]
    unparsable = 0
    if todo and judge is not None:
        fmt = items[todo[0]]["format"]
        if fmt == "captioning":
            fields = [{"pred": preds[i], "question": items[i]["mc_question"]} for i in todo]
        else:
            fields = [{"question": items[i]["question"], "answer": items[i]["answer"], "pred": preds[i]} for i in todo]
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

    per_item = {_item_key(item, n): {"rating": r, "pred": "yes" if r else "no", "counted": True,
                                     "by": "rule" if m else "judge"}
                for n, (item, r, m) in enumerate(zip(items, final, matched))}
    return {"accuracy": acc(final), "per_dimension": {k: acc(v) for k, v in by_dim.items()},
            "per_fine_dimension": {k: acc(v) for k, v in by_fine.items()},
            "match_rate": acc([int(m) for m in matched]), "judge_unparsable": unparsable, "n": len(items),
            "per_item": per_item}


def _item_key(item: dict[str, Any], n: int) -> str:
    """`<video_id>/<dimension>/<index>` as in the authors' result files, or the position."""
    return f"{item['video_id']}/{item['dim']}/{item['index']}" if {"video_id", "index"} <= set(item) else str(n)
