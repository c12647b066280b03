"""Reading result folders into leaderboard entries through the one results type (eval/results.py): the
judge, frame setting, partial-download flag and per-sample values of every number, the newest file per model."""

from __future__ import annotations

import fnmatch
import json
import math
import os
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from dreamframe.jsonl import read_jsonl
from eval.leaderboard.published import benchmark_of, canonical_metric, is_headline
from eval.leaderboard.types import NO_JUDGE, PLAIN_LM_EVAL, PUBLISHED_PROTOCOL, Entry, LeaderboardError
from eval.results import JudgeRecord, ResultsError, RunRecord


def find_results(paths: Iterable[str]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            found = results_below(p)
            if not found:
                raise LeaderboardError(f"{p}: no results_*.json found (expected <dir>/<model>/results_<ts>.json)")
            files.extend(found)
        else:
            raise LeaderboardError(f"{p}: no such file or folder")
    return files


def results_below(root: Path) -> list[Path]:
    """The results_*.json files below `root`, outside hidden folders (eval.run's own: staging, task files;
    eval.run refuses a --name starting with '.'). What is left out is said on stderr, never silently: the
    results files in hidden folders, and the folders that cannot be read (their results are missing)."""
    found: list[Path] = []
    hidden: list[Path] = []
    unreadable: list[OSError] = []
    for folder, subfolders, names in os.walk(root, onerror=unreadable.append):
        subfolders.sort()
        here = Path(folder)
        in_hidden = any(part.startswith(".") for part in here.relative_to(root).parts)
        for name in sorted(fnmatch.filter(names, "results_*.json")):
            (hidden if in_hidden else found).append(here / name)
    if hidden:
        print(f"note: {len(hidden)} results file(s) in hidden folders under {root} not read (e.g. {hidden[0]}): "
              "eval.run stages files there; a results folder whose name starts with '.' must be renamed",
              file=sys.stderr)
    for err in unreadable:
        print(f"warning: {err.filename}: folder not readable ({err.strerror}); any results below it are "
              "missing from the leaderboard", file=sys.stderr)
    return sorted(found)


UNITS_KEY = "accuracy_units"
"""Key in a task config's `metadata` (DreamFrame's task templates set it to "percent") that lm-eval copies
into its results file under `configs`: how the board knows the units of a plain lm-eval result."""


def accuracy_scale(record: RunRecord, name: str, value: float) -> float:
    """The factor that turns a plain lm-eval accuracy into percent: 1 when every task under `name` declares
    `metadata.accuracy_units: percent` in the results' `configs`, else 100 (lm-eval's own metrics are 0-1
    fractions) - unless the value is above 1, which no fraction is."""
    declared = [(record.tasks[t].config.get("metadata") or {}).get(UNITS_KEY) for t in record.leaves(name)]
    return 1.0 if (declared and all(u == "percent" for u in declared)) or value > 1 else 100.0


def read_samples(path: Path, metric: str, filt: str) -> dict[Any, float] | None:
    """Per-sample numeric values of `metric` keyed by doc_id, or None when absent or not numeric; a sample
    whose value is null is not counted by that metric (Video-MME's `acc` over answered questions)."""
    if not path.is_file():
        return None
    out: dict[Any, float] = {}
    for lineno, row in read_jsonl(path, LeaderboardError):
        if row.get("filter", filt) != filt or metric not in row:
            continue
        value = row[metric]
        if value is None:
            continue
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, (int, float)):
            return None
        out[row.get("doc_id", lineno)] = float(value)
    return out or None


def verdict_samples(path: Path, metric: str) -> dict[Any, float] | None:
    """Per-item judge verdicts from the file a task's record names (`TaskRecord.verdicts`, eval.judges
    writes it): accuracy = 100 for 'yes', 0 for 'no'; other metrics take the item's 'score'. Uncounted
    items (unparsable under the parse rule) are left out, as in the reported number."""
    if not path.is_file():
        return None
    try:
        per_item = json.loads(path.read_text(encoding="utf-8")).get("per_item") or {}
    except (json.JSONDecodeError, AttributeError):
        return None
    if not isinstance(per_item, dict):
        return None
    out: dict[Any, float] = {}
    for key, v in per_item.items():
        if not isinstance(v, dict) or not v.get("counted", True):
            continue
        if metric == "accuracy" and v.get("pred") in ("yes", "no"):
            out[key] = 100.0 if v["pred"] == "yes" else 0.0
        elif metric != "accuracy" and isinstance(v.get("score"), (int, float)):
            out[key] = float(v["score"])
    return out or None


def _reproduces(e: Entry) -> bool:
    from eval.stats import point_estimate

    est = point_estimate([list(s.values()) for s in e.samples.values()], e.aggregate)
    return abs(est - e.value) <= 1e-6 * max(1.0, abs(e.value)) + 1e-9


BESIDE_METRICS = ("acc_all", "unanswered")
"""Shown beside a headline that leaves unanswered questions out (Video-MME), never ranked on their own."""


def _beside(metrics: dict[str, tuple[str, str, float]]) -> str:
    """'all questions: 66.7; 3 unanswered' for a task whose headline accuracy counts answered questions only."""
    if not all(m in metrics for m in BESIDE_METRICS):
        return ""
    return f"all questions: {metrics['acc_all'][2]:.1f}; {int(metrics['unanswered'][2])} unanswered"


def _metric_keys(task_result: dict[str, Any]) -> dict[str, tuple[str, str, float]]:
    """canonical metric -> (raw metric, filter, value); the 'none' filter wins, then the first. A NaN value
    (e.g. an open-QA accuracy when no judge reply could be parsed) is kept: `build` lists it as n/a."""
    found: dict[str, tuple[str, str, float]] = {}
    keys = sorted((k for k in task_result if "," in k and "_stderr" not in k),
                  key=lambda k: (k.split(",", 1)[1] != "none", k))
    for key in keys:
        raw, filt = key.split(",", 1)
        value = task_result[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found.setdefault(canonical_metric(raw), (raw, filt, float(value)))  # NaN too: shown as n/a
    return found


def read_record(path: Path) -> RunRecord:
    """The results file as its record; an unreadable one is a LeaderboardError naming the file and field."""
    try:
        return RunRecord.read(path)
    except ResultsError as err:
        raise LeaderboardError(str(err)) from None


def load_results_file(path: Path, benchmarks: dict[str, dict[str, Any]]) -> list[Entry]:
    """Every (task, metric) number of one results file, with judge and frame setting."""
    record = read_record(path)
    parent_of = {sub: name for name, group in record.groups.items() for sub in group.subtasks}
    entries = []
    for name in [*record.groups, *record.tasks]:
        parent = parent_of.get(name)
        bench = benchmark_of(name, benchmarks) or (benchmark_of(parent, benchmarks) if parent else None) or name
        board = bench if is_headline(name, bench, benchmarks) else name
        result = record.groups[name].metrics if name in record.groups else record.tasks[name].metrics
        metrics = _metric_keys(result)
        beside = _beside(metrics)
        for metric, (raw, filt, value) in metrics.items():
            if not (beside and metric in BESIDE_METRICS):
                entries.append(_entry(record, name, metric, raw, filt, value, bench=bench, board=board, parent=parent,
                                      beside=beside if metric == "accuracy" else ""))
    return entries


def _entry(record: RunRecord, name: str, metric: str, raw: str, filt: str, value: float, *, bench: str, board: str,
           parent: str | None, beside: str) -> Entry:
    """One number of a task or group, with its provenance and (when they reproduce it) its per-sample values."""
    scale = accuracy_scale(record, name, value) if record.plain_lm_eval and metric == "accuracy" else 1.0
    judge, judge_key = _judge_of(record, name)
    partial = record.is_partial(name)
    e = Entry(model=record.model, benchmark=bench, task=name, metric=metric, value=value * scale, judge=judge,
              judge_key=judge_key, frames=_frames_of(record, name), source=str(record.path),
              base_model=record.base_model, parent=parent, fingerprint=record.model_fingerprint, raw_metric=raw,
              errors=_errors_of(record, name), partial=partial, board=f"{board} (partial)" if partial else board,
              beside=beside)
    if parent:
        e.subtask = name[len(parent):].strip("_") if name.startswith(parent) else name
    e.samples = _samples_of(record, name, metric, raw, filt, scale) if math.isfinite(e.value) else None
    if e.samples:
        e.n = sum(len(s) for s in e.samples.values())
        weights = record.groups[name].weights if name in record.groups else None
        e.aggregate = [float(weights[t]) for t in e.samples] if weights else _aggregate_rule(e)
        if not _reproduces(e):  # a stale or foreign per-sample file: no interval rather than a wrong one
            e.samples, e.n = None, None
    e.n = e.n or (record.tasks[name].n_samples if name in record.tasks else None)
    return e


def _samples_of(record: RunRecord, name: str, metric: str, raw: str, filt: str,
                scale: float) -> dict[str, dict[Any, float]] | None:
    """task -> doc -> value for every task under `name`: the per-sample log, else the judge's verdicts file."""
    folder = Path(record.path or ".").parent
    out = {}
    for task in record.leaves(name):
        rec = record.tasks[task]
        found = read_samples(folder / rec.samples, raw, filt) if rec.samples else None
        found = found or (verdict_samples(folder / rec.verdicts, metric) if rec.verdicts else None)
        if found is None:
            return None
        out[task] = {k: v * scale for k, v in found.items()}
    return out


def _judge_label(j: JudgeRecord) -> tuple[str, str]:
    """(label shown in cells, key numbers are ranked under) of one judge record."""
    if j.name == NO_JUDGE:
        return NO_JUDGE, NO_JUDGE
    label = f"{j.name} ({j.model})" if j.model else j.name
    return label, PUBLISHED_PROTOCOL if j.comparable_to_published else label


def _judge_of(record: RunRecord, name: str) -> tuple[str, str]:
    """The judge a task's numbers were measured with (a group takes the judges of its judged tasks: the
    held-out group's closed questions need none, its open ones a judge)."""
    if record.plain_lm_eval:  # judge unknown: ranked only among plain lm-eval results
        return PLAIN_LM_EVAL, PLAIN_LM_EVAL
    found = {_judge_label(record.tasks[t].judge) for t in record.leaves(name)} - {(NO_JUDGE, NO_JUDGE)}
    if len(found) <= 1:
        return found.pop() if found else (NO_JUDGE, NO_JUDGE)
    label = "mixed: " + ", ".join(sorted(f[0] for f in found))
    return label, label


def _errors_of(record: RunRecord, name: str) -> dict[str, int]:
    """Missing/unreadable videos and unparsable judge replies, summed over a group's tasks."""
    out: dict[str, int] = defaultdict(int)
    for task in record.leaves(name):
        for kind, n in record.tasks[task].errors.items():
            out[kind] += int(n)
    missing = (record.groups[name].missing if name in record.groups else None) or {}
    if "questions" in missing:  # a group's own count: formats sharing a video count it once
        out["skipped_questions"], out["missing_video"] = missing["questions"], missing["videos"]
    return {k: v for k, v in out.items() if v}


def _frames_of(record: RunRecord, name: str) -> str:
    """The frame setting (`rule xN`), with the evaluation protocol when it was not the default."""
    if record.plain_lm_eval:
        return PLAIN_LM_EVAL
    tasks = [record.tasks[t] for t in record.leaves(name)]
    found = {f"{t.clip.rule} x{t.clip.num_frames}" for t in tasks if t.clip.rule is not None}
    frames = "not recorded" if not found else found.pop() if len(found) == 1 else "mixed: " + ", ".join(sorted(found))
    protocols = {f"official protocol ({t.protocol.get('family')})" for t in tasks if t.protocol.get("name") == "official"}
    return "; ".join([frames, *sorted(protocols)])


def _aggregate_rule(e: Entry) -> str:
    """Which mean reproduces the reported group number: pooled (weighted by size) or macro."""
    from eval.stats import point_estimate

    strata = [list(s.values()) for s in e.samples.values()]
    if len(strata) == 1:
        return "pooled"
    pooled, macro = point_estimate(strata, "pooled"), point_estimate(strata, "macro")
    return "macro" if abs(macro - e.value) < abs(pooled - e.value) else "pooled"


def merge_latest(files: Sequence[Path], benchmarks: dict[str, dict[str, Any]]) -> list[Entry]:
    """Load all files; for one model+fingerprint, the latest results file wins per (task, metric)."""
    best: dict[tuple, tuple[str, Entry]] = {}
    for path in files:
        stamp = path.stem[len("results_"):]
        for e in load_results_file(path, benchmarks):
            key = (e.model, e.fingerprint, e.task, e.metric, e.judge_key, e.frames)
            if key not in best or stamp > best[key][0]:
                best[key] = (stamp, e)
    entries = [e for _, e in best.values()]
    fps = defaultdict(set)
    for e in entries:
        fps[e.model].add(e.fingerprint)
    for e in entries:  # the same name with different weights must not look like one model
        if len(fps[e.model]) > 1:
            e.model = f"{e.model} [{e.fingerprint[:8] or 'no fingerprint'}]"
    return entries

