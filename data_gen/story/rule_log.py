"""What the semantic rules did while a movie was written, and the totals over a dataset folder.

Per rule: `fired` (model replies it rejected), `repaired` (requests where it fired and a later turn
passed), `rejected_level` (requests that ended on a reply it rejected), `rejected_movie` (movies
thrown away with it among the reasons). Per level (outline, chapter, substory, verify): requests,
accepted at the first turn, accepted after a repair, rejected by rules or by the schema, lost to an
endpoint error (not the model's doing). Per writer
model: movies attempted, accepted and the acceptance rate. An accepted movie's log is kept in its
staged story, a rejected movie's in `stories/<id>.rejected.json`, so the totals survive resumes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from data_gen.story.rules import RULE_NAMES

RULE_KEYS = ("fired", "repaired", "rejected_level", "rejected_movie")
LEVEL_KEYS = ("requests", "accepted_first_turn", "accepted_after_repair", "rejected_by_rules", "rejected_by_schema",
              "endpoint_errors")
LEVELS = ("outline", "chapter", "substory", "verify")


class RuleLog:
    """One movie's tally; `record` is called once per request, with the rules that fired on each checked turn."""

    def __init__(self) -> None:
        self.rules = {name: dict.fromkeys(RULE_KEYS, 0) for name in RULE_NAMES}
        self.levels = {level: dict.fromkeys(LEVEL_KEYS, 0) for level in LEVELS}

    def record(self, level: str, fired_per_turn: list[list[str]], outcome: str, turns: int = 0,
               rejected_by: list[str] = ()) -> None:
        """`outcome`: accepted (after `turns` model turns), rejected (`rejected_by`: the rules that rejected
        the last reply, empty when it broke the schema) or error (the endpoint failed)."""
        lv = self.levels[level]
        lv["requests"] += 1
        for fired in fired_per_turn:
            for name in fired:
                self.rules[name]["fired"] += 1
        if outcome == "accepted":
            for name in {n for fired in fired_per_turn for n in fired}:
                self.rules[name]["repaired"] += 1
            lv["accepted_first_turn" if turns <= 1 else "accepted_after_repair"] += 1
        elif outcome == "error":
            lv["endpoint_errors"] += 1
        else:
            for name in rejected_by:
                self.rules[name]["rejected_level"] += 1
            lv["rejected_by_rules" if rejected_by else "rejected_by_schema"] += 1

    def reject_movie(self, rules: Iterable[str]) -> None:
        for name in set(rules):
            self.rules[name]["rejected_movie"] += 1

    def as_dict(self) -> dict[str, Any]:
        return {"rules": self.rules, "levels": self.levels}


def rejected_path(root: str | Path, movie_id: str) -> Path:
    return Path(root) / "stories" / f"{movie_id}.rejected.json"


def _add(total: dict[str, dict[str, int]], part: dict[str, dict[str, int]], keys: tuple[str, ...]) -> None:
    for name, counts in part.items():
        row = total.setdefault(name, dict.fromkeys(keys, 0))
        for k, v in counts.items():
            row[k] = row.get(k, 0) + v


def totals(root: str | Path, accepted: list[dict[str, Any]]) -> dict[str, Any]:
    """Rule and level totals over the accepted movies' stats and every rejection record in the folder,
    the writer's acceptance rate per model, and the rules that rejected each rejected movie."""
    rules = {name: dict.fromkeys(RULE_KEYS, 0) for name in RULE_NAMES}
    levels = {level: dict.fromkeys(LEVEL_KEYS, 0) for level in LEVELS}
    models: dict[str, dict[str, Any]] = {}
    rejected: dict[str, list[str]] = {}
    records = [(s, True) for s in accepted]
    for path in sorted((Path(root) / "stories").glob("*.rejected.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        records.append((rec, False))
        rejected[path.name.removesuffix(".rejected.json")] = rec["rejected_by"]
    for rec, ok in records:
        log = rec.get("rule_log") or {}
        _add(rules, log.get("rules", {}), RULE_KEYS)
        _add(levels, log.get("levels", {}), LEVEL_KEYS)
        m = models.setdefault(rec.get("model", "unknown"), {"attempted": 0, "accepted": 0})
        m["attempted"] += 1
        m["accepted"] += ok
    for m in models.values():
        m["acceptance_rate"] = round(m["accepted"] / m["attempted"], 4)
    return {"rules": rules, "levels": levels, "acceptance": models, "rejected": rejected}
