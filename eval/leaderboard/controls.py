"""This run's own result, first on the leaderboard: the controls table of a held-out summary.json.

`python -m eval.leaderboard --controls <out>/summary.json` opens the page (and leaderboard.md) with the
tuned-vs-blind headline, a chart and one table per section of the summary: rows = all questions, each
question type, other accuracies (free generation, pairs); columns = every role the summary lists -
controls (chance, majority), then the models (base, blind, ..., tuned), with 95% intervals. Nothing
here names a section or a model beyond that order: a summary that adds a control model or a section
(e.g. an `order_blind` twin, a `heldout_shift` split, `pair_acc`) renders with no new layout.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from eval.leaderboard.types import Entry, LeaderboardError

FIRST, LAST = ("chance", "majority", "base", "blind"), ("tuned",)
"""Column order: controls and the base first, the fine-tune last; any other role in between, as listed."""
PER_TYPE_METRICS = ("pair_acc",)
"""Accuracies besides `acc` also shown per question type (pairs exist only for some types)."""
CONTROL_COLOR, MODEL_COLOR, TUNED_COLOR = "#9d9d9d", "#76b7b2", "#4e79a7"


def load(path: str) -> dict[str, Any]:
    try:
        summary = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise LeaderboardError(f"--controls {path}: not readable as JSON ({err})") from err
    if not sections(summary):
        raise LeaderboardError(f"--controls {path}: no section of roles with an 'acc' (python -m eval.summary writes one)")
    return summary


def _is_block(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("acc"), (int, float))


def sections(summary: dict[str, Any]) -> list[tuple[str, dict[str, dict[str, Any]]]]:
    """(name, role -> block) for every top-level mapping of roles to accuracy blocks, in file order."""
    return [(name, table) for name, table in summary.items()
            if isinstance(table, dict) and table and all(_is_block(v) for v in table.values())]


def roles(table: dict[str, Any]) -> list[str]:
    middle = [r for r in table if r not in FIRST + LAST]
    return [r for r in FIRST if r in table] + middle + [r for r in LAST if r in table]


def metrics(table: dict[str, Any]) -> list[str]:
    """`acc` first, then every other accuracy a block carries (free_acc, pair_acc, ...)."""
    found = {k for b in table.values() for k, v in b.items()
             if k.endswith("acc") and isinstance(v, (int, float)) and not isinstance(v, bool)}
    return ["acc", *sorted(found - {"acc"})]


def cell(block: dict[str, Any] | None, key: str = "acc") -> str:
    if not block or not isinstance(block.get(key), (int, float)):
        return "-"
    ci = block.get(f"{key}_ci")
    return f"{block[key]:.1f}" + (f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else "")


def title(name: str) -> str:
    return name.replace("heldout", "held-out").replace("_", " ")


def section_table(name: str, table: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Headers and rows of one section: all questions, each type, then the other accuracies."""
    cols = roles(table)
    types = sorted({t for r in cols for t in (table[r].get("per_type") or {})})
    rows = [["all", *[cell(table[r]) for r in cols]]]
    rows += [[t, *[cell((table[r].get("per_type") or {}).get(t)) for r in cols]] for t in types]
    for m in metrics(table)[1:]:
        rows.append([f"all, {m}", *[cell(table[r], m) for r in cols]])
        rows += [[f"{t}, {m}", *[cell((table[r].get("per_type") or {}).get(t), m) for r in cols]] for t in types
                 if m in PER_TYPE_METRICS and any(m in ((table[r].get("per_type") or {}).get(t) or {}) for r in cols)]
    headers = ["type", *[r + (f" ({names[r]})" if r in names else "") for r in cols]]
    return {"name": name, "title": title(name), "headers": headers, "rows": rows}


def headline(summary: dict[str, Any]) -> str | None:
    """'held-out closed: tuned 87.2 [80.1, 92.0] vs blind 27.9 [20.3, 36.1]: +59.3 points (disjoint 95% CIs)'."""
    for name, table in sections(summary):
        if {"tuned", "blind"} <= table.keys():
            t, b = table["tuned"], table["blind"]
            diff = t["acc"] - b["acc"]
            ci_t, ci_b = t.get("acc_ci"), b.get("acc_ci")
            gap = ("" if not (ci_t and ci_b) else
                   " (disjoint 95% CIs)" if ci_t[0] > ci_b[1] or ci_b[0] > ci_t[1] else " (overlapping 95% CIs)")
            return f"{title(name)}: tuned {cell(t)} vs blind {cell(b)}: {diff:+.1f} points{gap}"
    return None


def chart(summary: dict[str, Any]) -> Any:
    """Every section's accuracy per role, controls grey, the fine-tune in the models' colour."""
    from dreamframe.html import hbar_chart

    labels, values, errors, colors = [], [], [], []
    models = set((summary.get("models") or {}).keys())
    for name, table in sections(summary):
        for role in roles(table):
            block = table[role]
            if not math.isfinite(float(block["acc"])):
                continue
            labels.append(f"{title(name)}: {role}")
            values.append(float(block["acc"]))
            errors.append(tuple(block["acc_ci"]) if block.get("acc_ci") else None)
            colors.append(TUNED_COLOR if role == "tuned" else MODEL_COLOR if role in models and "blind" not in role
                          else CONTROL_COLOR)
    return hbar_chart(labels, values, errors=errors, colors=colors, x_max=100.0, x_label="accuracy %",
                      title="This run: models and controls (95% CI)")


def context(path: str) -> dict[str, Any]:
    """What the page and leaderboard.md show first."""
    summary = load(path)
    names = summary.get("models") or {}
    return {"headline": headline(summary), "chart": chart(summary), "source": path,
            "tables": [section_table(name, table, names) for name, table in sections(summary)]}


def markdown(ctx: dict[str, Any], row: Any) -> list[str]:
    """The controls section of leaderboard.md; `row` renders one markdown table row."""
    lines = ["## This run: models beside their controls", ""]
    if ctx["headline"]:
        lines += [f"**{ctx['headline']}**", ""]
    for t in ctx["tables"]:
        lines += [f"### {t['title']} (acc %, 95% CI)", "", row(t["headers"]), row(["---"] * len(t["headers"]))]
        lines += [row(r) for r in t["rows"]] + [""]
    return lines + [f"From {ctx['source']}; the chart is in index.html.", ""]


# -- control rows on the ranked boards -------------------------------------------------------------
CONTROL_NOTES = {"chance": "control: mean of 1/len(options)",
                 "majority": "control: the train split's most frequent answer of each question type",
                 "blind": "control: same model and training, frames of other movies",
                 "order_blind": "control: same model and training, each clip's frames as a set (ordered by pixels, not time)"}


def add_controls(path: str, entries: list[Entry]) -> list[Entry]:
    """Chance and majority rows of a held-out summary on the boards of the closed held-out tasks (the
    in-distribution and, where scored, the shifted set), and the summary's blind and order-blind models
    marked as controls."""
    try:
        summary = json.loads(Path(path).read_text(encoding="utf-8"))
        summary["heldout_closed"]
        roles = summary.get("models", {})
    except (OSError, json.JSONDecodeError, KeyError) as err:
        raise LeaderboardError(f"--controls {path}: not a held-out summary ({err})") from err
    for role, name in roles.items():
        for e in entries:
            if e.model == name and role in CONTROL_NOTES:
                e.control = CONTROL_NOTES[role]
    out = []
    for section, task in (("heldout_closed", "dreamframe_heldout_closed"), ("heldout_shift", "dreamframe_shift_closed")):
        board = [e for e in entries if e.task == task and e.metric == "accuracy"]
        table = summary.get(section)
        if not board or not table:
            continue
        like = board[0]
        out += [Entry(model=f"{role} (control)", benchmark=like.benchmark, task=like.task, metric="accuracy",
                      value=float(table[role]["acc"]), ci=tuple(table[role]["acc_ci"]) if "acc_ci" in table[role] else None,
                      n=table[role].get("n"), frames="none (never reads the frames)", source=str(path),
                      board=like.board, raw_metric="acc", control=CONTROL_NOTES[role])
                for role in ("chance", "majority") if role in table]
    return out
