"""Statistics on the board: bootstrap intervals, competition ranks within one (board, metric, judge)
group, and fine-tune deltas against their base and blind controls."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from eval.leaderboard.types import NO_JUDGE, PUBLISHED_PROTOCOL, Delta, Entry, RankingError


def add_confidence_intervals(entries: Iterable[Entry], n_boot: int, confidence: float, seed: int) -> None:
    from eval.stats import bootstrap_ci

    for e in entries:
        if e.samples and n_boot > 0:
            strata = [list(s.values()) for s in e.samples.values()]
            e.ci = bootstrap_ci(strata, n_boot, confidence, seed, e.aggregate)


def rank(entries: Sequence[Entry]) -> list[tuple[int, Entry]]:
    """Competition ranking (1, 2, 2, 4) by value, best first; refuses mixed judges or metrics."""
    keys = {(e.board, e.metric) for e in entries}
    judges = {e.judge_key for e in entries}
    if len(judges) > 1:
        raise RankingError(f"refusing to rank numbers measured under different judges: {sorted(judges)}")
    if len({e.partial for e in entries}) > 1:
        raise RankingError("refusing to rank numbers from a partial download with complete ones: "
                           f"{sorted(e.model for e in entries if e.partial)} are partial")
    if len(keys) > 1:
        raise RankingError(f"refusing to rank different tasks/metrics together: {sorted(keys)}")
    ordered = sorted(entries, key=lambda e: -e.value)
    out, prev, prev_rank = [], None, 0
    for i, e in enumerate(ordered, 1):
        r = prev_rank if prev is not None and e.value == prev else i
        out.append((r, e))
        prev, prev_rank = e.value, r
    return out


def ranked_groups(entries: Iterable[Entry], benchmarks: dict[str, dict[str, Any]] | None = None
                  ) -> dict[tuple[str, str, str], list[tuple[int, Entry]]]:
    """Headline numbers (no subtasks) split into (board, metric, judge) groups, each ranked on its own,
    in benchmark-table order."""
    groups: dict[tuple[str, str, str], list[Entry]] = defaultdict(list)
    for e in entries:
        if e.parent is None:
            groups[e.group_key].append(e)
    order = list(benchmarks or {})

    def sort_key(k: tuple[str, str, str]) -> tuple:
        board, metric, judge = k
        return (order.index(board) if board in order else len(order), board, metric != "accuracy", metric,
                judge != NO_JUDGE, judge != PUBLISHED_PROTOCOL, judge)

    return {k: rank(groups[k]) for k in sorted(groups, key=sort_key)}


def deltas(entries: Sequence[Entry], n_boot: int, confidence: float, seed: int) -> list[Delta]:
    """Each fine-tune minus its base, and minus every blind control run on the same task, metric and
    judge (paired bootstrap when the two ran on the same questions, unpaired otherwise)."""
    index = {(e.model, e.board, e.metric, e.judge_key, e.published): e for e in entries if e.parent is None}
    blind = [e for e in entries if e.parent is None and e.control and e.samples]
    out = []
    for e in entries:
        if e.parent is not None or not e.base_model or e.control:
            continue
        base = index.get((e.base_model, e.board, e.metric, e.judge_key, e.published))
        others = [base] if base is not None else []
        others += [b for b in blind if b.group_key == e.group_key and b.model != e.model]
        out += [_delta(e, other, n_boot, confidence, seed) for other in others]
    return out


def _delta(e: Entry, base: Entry, n_boot: int, confidence: float, seed: int) -> Delta:
    from eval.stats import bootstrap_distribution, percentile_ci

    ci, note = None, "" if e.frames == base.frames else f"frames differ: {e.frames} vs {base.frames}"
    if e.samples and base.samples and n_boot > 0:
        same = e.samples.keys() == base.samples.keys() and all(
            e.samples[k].keys() == base.samples[k].keys() for k in e.samples)
        if same:
            strata = [[e.samples[k][d] - base.samples[k][d] for d in e.samples[k]] for k in e.samples]
            dist = bootstrap_distribution(strata, n_boot, seed, e.aggregate)
        else:
            dist = (bootstrap_distribution([list(s.values()) for s in e.samples.values()], n_boot, seed, e.aggregate)
                    - bootstrap_distribution([list(s.values()) for s in base.samples.values()], n_boot,
                                             seed + 1, base.aggregate))
            note = "; ".join(filter(None, [note, "unpaired (different questions)"]))
        ci = percentile_ci(dist, confidence)
    label = f"{base.model} (control)" if base.control else base.model
    return Delta(e.model, label, e.board, e.metric, e.judge_key, e.value - base.value, ci, e.published, note)
