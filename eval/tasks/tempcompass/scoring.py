"""TempCompass scoring: the authors' matching rules first, the LLM judge only when no rule matches
(captioning is judged always: the judge answers the multi-choice question from the caption).
Without an LLM judge a reply no rule matches is matched to the option it names (`named_option`) and
otherwise scored 0 and counted as unmatched - never credited for sharing words with the right answer.
Accuracy per temporal dimension, per fine-grained aspect, overall, the rule match rate and the
unmatched count.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from eval.judges.judge import Judge
from eval.judges.named_option import named_option
from eval.judges.parsing import captioning_rating, correct_incorrect

_MC_LINE = re.compile(r"^([A-D])\.\s*(.*)$")


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


def _options(fmt: str, item: dict[str, Any]) -> tuple[list[tuple[str, str]], str]:
    """The (label, text) options a reply may name, and the right label."""
    if fmt == "yes_no":
        return [("yes", "yes"), ("no", "no")], item["answer"]
    if fmt == "caption_matching":
        lines = [line.split(": ", 1) for line in item["question"].split("\n")[1:] if ": " in line]
        return [(head.split()[-1], text) for head, text in lines], item["answer"].split(": ")[0].split()[-1]
    question, answer = (item["mc_question"], item["mc_answer"]) if fmt == "captioning" else (item["question"],
                                                                                            item["answer"])
    return [m.groups() for m in map(_MC_LINE.match, question.split("\n")) if m], answer.split(".")[0]


def option_rating(fmt: str, pred: str | None, item: dict[str, Any]) -> int | None:
    """1 / 0 when the reply names exactly one option (right or wrong), None when it names none or several."""
    options, right = _options(fmt, item)
    got = named_option(pred, options)
    return None if got is None else int(options[got][0] == right)


def score_tempcompass(judge: Judge | None, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """items: docs of one format with "pred". An answer no rule matches goes to an LLM judge; with the lexical
    judge it is matched to the option it names; with none or exact_match it is rated 0 (the authors'
    --disable_llm). Without an LLM an answer left unmatched is rated 0 and counted."""
    kind = None if judge is None else judge.cfg.kind
    named_options = kind == "lexical"
    judge = judge if kind == "llm" else None
    preds = [clean(item["pred"]) for item in items]
    ratings: list[int | None] = [0 if p is None else rate(item["format"], p, item) for item, p in zip(items, preds)]
    matched = [r is not None and p is not None for r, p in zip(ratings, preds)]
    todo = [i for i, r in enumerate(ratings) if r is None]
    by = ["rule" if m else "unmatched" for m in matched]
    for i in todo if judge is None and named_options else ():
        ratings[i] = option_rating(items[i]["format"], preds[i], items[i])
        by[i] = "unmatched" if ratings[i] is None else "named_option"
    unparsable = 0
    if todo and judge is not None:
        fmt = items[todo[0]]["format"]
        if fmt == "captioning":
            fields = [{"pred": preds[i], "question": items[i]["mc_question"]} for i in todo]
        else:
            fields = [{"question": items[i]["question"], "answer": items[i]["answer"], "pred": preds[i]} for i in todo]
        for i, reply in zip(todo, judge.replies(f"tempcompass_{fmt}", fields)):
            by[i] = "judge"
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

    per_item = {_item_key(item, n): {"rating": r, "pred": "yes" if r else "no", "counted": True, "by": b}
                for n, (item, r, b) in enumerate(zip(items, final, by))}
    return {"accuracy": acc(final), "per_dimension": {k: acc(v) for k, v in by_dim.items()},
            "per_fine_dimension": {k: acc(v) for k, v in by_fine.items()},
            "match_rate": acc([int(m) for m in matched]), "judge_unparsable": unparsable, "n": len(items),
            "unmatched": by.count("unmatched"), "named_option": by.count("named_option"), "per_item": per_item}


def _item_key(item: dict[str, Any], n: int) -> str:
    """`<video_id>/<dimension>/<index>` as in the authors' result files, or the position."""
    return f"{item['video_id']}/{item['dim']}/{item['index']}" if {"video_id", "index"} <= set(item) else str(n)
