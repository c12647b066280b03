"""Group scores that are not lm-eval's plain or size-weighted means (Video-Bench's official weighting).

lm-eval averages a group over all of its leaf tasks; a benchmark that defines `group_weights` (see
eval/tasks/README.md) gets its group number replaced by sum(w_t * acc_t) / sum(w_t) over the tasks it
ran, and its sub-groups (Video-Bench's three levels) added to the results as groups of their own.
"""

from __future__ import annotations

import math
from typing import Any

METRIC = "acc,none"


def weighted_mean(values: dict[str, float], weights: dict[str, float]) -> float:
    """sum(w * v) / sum(w) over the tasks with a finite value; NaN when there is none."""
    pairs = [(weights[t], v) for t, v in values.items() if t in weights and isinstance(v, (int, float)) and math.isfinite(v)]
    total = sum(w for w, _ in pairs)
    return math.nan if total == 0 else sum(w * v for w, v in pairs) / total


def apply_group_weights(results: dict[str, Any], group_weights: dict[str, dict[str, float]]) -> None:
    """Overwrite / add the weighted groups in lm-eval's results dict (in place); sub-groups nest under
    the group whose weights cover theirs, so `group_subtasks` reads benchmark -> level -> dataset."""
    per_task = results.get("results", {})
    subtasks = results.setdefault("group_subtasks", {})
    groups = results.setdefault("groups", {})
    for group, weights in sorted(group_weights.items(), key=lambda kv: len(kv[1])):
        value = weighted_mean({t: per_task.get(t, {}).get(METRIC) for t in weights}, weights)
        entry = {**groups.get(group, {}), "alias": groups.get(group, {}).get("alias", group), METRIC: value,
                 "acc_stderr,none": "N/A"}
        groups[group] = per_task[group] = entry
        children = [g for g, w in group_weights.items() if g != group and set(w) < set(weights)]
        subtasks[group] = children or list(weights)


def pool_answered_only(results: dict[str, Any]) -> None:
    """Groups whose tasks report `unanswered` (Video-MME): the group's `acc` becomes the official pooled
    accuracy over answered questions, sum(acc_t * answered_t) / sum(answered_t), and `unanswered` the sum
    (lm-eval can only average the tasks' own answered-only accuracies by size, which is not that figure)."""
    per_task, n_samples = results.get("results", {}), results.get("n-samples", {})
    for group, subs in (results.get("group_subtasks") or {}).items():
        leaves = [t for t in subs or [] if "unanswered,none" in per_task.get(t, {}) and t in n_samples]
        if not leaves or len(leaves) != len(subs):
            continue
        answered = {t: n_samples[t]["effective"] - per_task[t]["unanswered,none"] for t in leaves}
        right = sum(per_task[t]["acc,none"] * answered[t] for t in leaves if answered[t])
        total = sum(answered.values())
        entry = {**results.get("groups", {}).get(group, {}), METRIC: right / total if total else math.nan,
                 "acc_stderr,none": "N/A", "unanswered,none": sum(per_task[t]["unanswered,none"] for t in leaves),
                 "unanswered_stderr,none": "N/A"}
        results.setdefault("groups", {})[group] = per_task[group] = entry
