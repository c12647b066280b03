"""Published reference rows and the benchmark table (the benchmark folders' cards, eval/tasks/*/benchmark.yaml,
or a user's file), and how lm-eval task and metric names map onto them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from eval.leaderboard.types import ACCURACY_METRICS, NO_JUDGE, SCORE_METRICS, Entry, LeaderboardError

def load_published(path: str) -> tuple[list[Entry], dict[str, dict[str, Any]]]:
    """The published rows and the benchmark table: `builtin` (the benchmark folders' cards,
    eval.tasks.registry.published), a YAML file of the same format, or `none`."""
    from eval.tasks.registry import published

    data = published()
    benchmarks = data["benchmarks"]
    if path == "none":
        return [], benchmarks
    if path != "builtin":
        p = Path(path)
        if not p.is_file():
            raise LeaderboardError(f"--published {path}: file not found")
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        benchmarks = {**benchmarks, **data.get("benchmarks", {})}
    entries: list[Entry] = []
    sources, judges = data.get("sources", {}), data.get("judges", {})
    for i, row in enumerate(data.get("rows", [])):
        where = f"{path} rows[{i}]"
        for key in ("model", "source", "values"):
            if key not in row:
                raise LeaderboardError(f"{where}: missing field {key!r}")
        if row["source"] not in sources:
            raise LeaderboardError(f"{where}: source {row['source']!r} is not listed under 'sources'")
        src = sources[row["source"]]
        judge = judges.get(row.get("judge"), None) if row.get("judge") else None
        if row.get("judge") and judge is None:
            raise LeaderboardError(f"{where}: judge {row['judge']!r} is not listed under 'judges'")
        for metric, values in (("accuracy", row["values"]), ("score", row.get("scores", {}))):
            for bench, value in values.items():
                if bench not in benchmarks:
                    raise LeaderboardError(f"{where}: unknown benchmark {bench!r}")
                entries.append(Entry(
                    model=row["model"], benchmark=bench, task=bench, metric=metric, value=float(value),
                    judge=judge.get("label", row["judge"]) if judge else NO_JUDGE,
                    judge_key=judge.get("key", row["judge"]) if judge else NO_JUDGE,
                    frames=row.get("frames", "per source"), published=True, source=src["citation"],
                    url=src.get("url"), base_model=row.get("base_model")))
    return entries, benchmarks


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def benchmark_of(task: str, benchmarks: dict[str, dict[str, Any]]) -> str | None:
    """The benchmark id whose alias prefixes the task name (longest alias wins), else None."""
    norm = _norm(task)
    best = None
    for bench, info in benchmarks.items():
        for alias in info.get("aliases", [bench]):
            a = _norm(alias)
            if (norm == a or norm.startswith(a + "_")) and (best is None or len(a) > best[1]):
                best = (bench, len(a))
    return best[0] if best else None


def is_headline(task: str, bench: str, benchmarks: dict[str, dict[str, Any]]) -> bool:
    """A task named exactly like its benchmark is the number the published rows report."""
    info = benchmarks.get(bench, {})
    return _norm(task) in {_norm(a) for a in [bench, *info.get("aliases", [])]}


def canonical_metric(name: str) -> str:
    base = name.split(",")[0]
    if base in ACCURACY_METRICS:
        return "accuracy"
    if base in SCORE_METRICS:
        return "score"
    return base
