"""Video-MME scoring as the script its README links does it: thanku-all/parse_answer
`eval_your_results.py` at afd52cfe3dde5b3685e0d4f760c10c756860c758 (2024-06-23).

The answer extraction (`extract_characters_regex`) is reproduced as written, including its prefix
list where two missing commas glue "The best option is" + "The correct option is" and
"Best answer:" + "Best option:" into single strings (so "Best answer: C" still yields the B of
"Best"), and the later prefixes "Answer:", "Option:", "The correct answer", "The correct option". The official accuracy divides by *answered* questions (an extraction of ""
is left out): that is `acc` here, the headline; `acc_all` divides by all questions (what lmms-eval
reports) and `unanswered` counts the replies with no letter. All three are reported overall and per
duration, domain, sub-category and task type.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

ANSWER_PREFIXES = [
    "The best answer is",
    "The correct answer is",
    "The answer is",
    "The answer",
    "The best option is" "The correct option is",
    "Best answer:" "Best option:",
    "Answer:",
    "Option:",
    "The correct answer",
    "The correct option",
]


def extract_letter(response: str) -> str:
    """parse_answer's `extract_characters_regex`: first A-D after stripping answer prefixes, or ""."""
    s = response.strip()
    for prefix in ANSWER_PREFIXES:
        s = s.replace(prefix, "")
    if len(s.split()) > 10 and not re.search("[ABCD]", s):
        return ""
    match = re.search(r"[ABCD]", s)
    return "" if match is None else match[0]


def _acc(rows: list[tuple[bool, bool]]) -> dict[str, float | int | None]:
    answered = [c for a, c in rows if a]
    return {"acc": None if not answered else 100.0 * sum(answered) / len(answered),
            "acc_all": None if not rows else 100.0 * sum(c for _, c in rows) / len(rows),
            "unanswered": len(rows) - len(answered), "n": len(rows)}


def score_videomme(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """items: docs of `load_videomme` with the model's reply in "pred"."""
    rows = []
    for item in items:
        letter = extract_letter(item["pred"])
        rows.append((letter != "", letter == item["answer"]))
    out: dict[str, Any] = {"overall": _acc(rows)}
    for field in ("duration", "domain", "sub_category", "task_type"):
        groups: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
        for item, row in zip(items, rows):
            groups[item[field]].append(row)
        out[f"per_{field}"] = {k: _acc(v) for k, v in sorted(groups.items())}
    return out
