"""Video-Bench scoring: map each reply to an option letter, then accuracy = right / mapped, in percent.

- LLM judge (the official protocol, Step2_chatgpt_judge.py): every reply goes to the judge with the
  official three-turn prompt; its reply must be the JSON {"maximum probability": "<A-F>"}. A reply that
  is not (under `literal_eval_whole`) is left out of the accuracy - the original keeps no verdict file
  for it and re-asks on its next run; a reply cached here is not re-asked - and is counted as
  unparsable; under `first_braces` the first {...} is read and an unreadable one counts as wrong.
- Offline (`lexical`): the reply's own option letter or option text first (`rule_choice`), else the
  one option the reply names (eval/judges/named_option.py); a reply naming none or several is wrong
  and counted `unmatched` (never the option sharing most words: the authors' sentence-T5 judge,
  Step2_T5_judge.py, is not available offline). NOT comparable with published numbers.
- `--judge exact_match`: `rule_choice` only; a reply it cannot map is wrong.
`rule_choice` is this project's rule (Video-Bench has no rule stage); it is recorded as such.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from eval.judges.judge import Judge
from eval.judges.lexical import normalise_exact

JUDGE_LETTERS = ("A", "B", "C", "D", "E", "F")  # what Step2_chatgpt_judge.py accepts
_LEADING_LETTER = re.compile(r"^\(?([A-F])(?:[.:)]|\s|$)")
_BRACES = re.compile(r"\{.*?\}", re.DOTALL)
REPLY_RULE = 'json.loads(reply)["maximum probability"] in A-F (Step2_chatgpt_judge.py)'


def rule_choice(pred: str, choices: dict[str, str]) -> str | None:
    """The option a reply names itself: a leading letter ('B', 'B.', '(B)', 'B) ...') or an option's text."""
    text = pred.strip()
    m = _LEADING_LETTER.match(text)
    if m and m.group(1) in choices:
        return m.group(1)
    by_text = [letter for letter, option in choices.items() if normalise_exact(option) == normalise_exact(text)]
    return by_text[0] if len(by_text) == 1 else None


def parse_choice(raw: str, parse_rule: str) -> str | None:
    """The judge's letter, or None when its reply is not the official JSON dict with a letter A-F."""
    text = raw.strip()
    if parse_rule == "first_braces":
        m = _BRACES.search(text)
        text = m.group(0) if m else ""
    try:
        choice = json.loads(text)["maximum probability"]
    except (ValueError, TypeError, KeyError):
        return None
    return choice if choice in JUDGE_LETTERS else None


def judge_input(item: dict[str, Any]) -> dict[str, Any]:
    """Fields of the official prompt: `gpt_input` is str() of the same dict the original builds."""
    return {"gpt_input": str({"target sequcene": item["pred"], "question": item["prompt"]}),
            "pred": item["pred"], "choices": item["choices"]}


def score_videobench(judge: Judge, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """items: rows of one dataset with the model's reply in "pred"; accuracy in percent."""
    kind = judge.cfg.kind
    choices: list[str | None] = [None if kind == "llm" else rule_choice(i["pred"], i["choices"]) for i in items]
    by_rule = [c is not None for c in choices]
    todo = [] if kind == "exact_match" else [n for n, c in enumerate(choices) if c is None]
    unparsable = 0
    replies = judge.replies("videobench", [judge_input(items[n]) for n in todo]) if todo else []
    for n, reply in zip(todo, replies):
        choices[n] = parse_choice(reply, judge.cfg.parse_rule)
        unparsable += choices[n] is None and kind == "llm"
    # an LLM judge's unusable reply is left out, as the original keeps no verdict for it (it re-asks on its next run)
    left_out = {n for n in todo if choices[n] is None and kind == "llm" and judge.cfg.parse_rule == "literal_eval_whole"}
    per_item = {}
    for n, (item, choice) in enumerate(zip(items, choices)):
        per_item[item["qid"]] = {"choice": choice, "answer": item["answer"], "by": "rule" if by_rule[n] else "judge",
                                 "pred": "yes" if choice == item["answer"] else "no", "counted": n not in left_out}
    counted = [v for v in per_item.values() if v["counted"]]
    right = sum(v["pred"] == "yes" for v in counted)
    return {"accuracy": 100.0 * right / len(counted) if counted else None, "n": len(items), "n_scored": len(counted),
            "match_rate": 100.0 * sum(by_rule) / len(items) if items else None, "judge_unparsable": unparsable,
            "unmatched": sum(c is None for c in choices) if kind != "llm" else 0, "per_item": per_item}
