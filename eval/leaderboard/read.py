"""Reading lm-eval result folders into leaderboard entries: the judge, frame setting, partial-download
flag and per-sample values of every number, the newest file per model, and the held-out controls."""

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

from eval.leaderboard.published import benchmark_of, canonical_metric, is_headline
from eval.leaderboard.types import NO_JUDGE, PLAIN_LM_EVAL, PUBLISHED_PROTOCOL, Entry, LeaderboardError


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


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise LeaderboardError(f"{path}: not valid JSON ({err})") from err
    except OSError as err:
        raise LeaderboardError(f"{path}: cannot be read ({err.strerror})") from err
    if not isinstance(data, dict):
        raise LeaderboardError(f"{path}: expected a JSON object")
    return data


def plain_lm_eval_block(data: dict[str, Any]) -> dict[str, Any]:
    """What the board knows of a results file written by lm-eval itself (no "dreamframe" block): the
    model's name. Judge and frames are not recorded: its numbers are labelled as plain lm-eval results and
    ranked only with other plain lm-eval results; accuracies are read in the units each task's config
    declares (`accuracy_scale`)."""
    cfg = data.get("config") or {}
    args = cfg.get("model_args")
    named = args.get("model") or args.get("pretrained") if isinstance(args, dict) else None
    return {"model": data.get("model_name") or named or cfg.get("model") or "unknown (plain lm-eval)",
            "judge": {"name": PLAIN_LM_EVAL, "model": None, "comparable_to_published": False},
            "frame_sampling": {"rule": PLAIN_LM_EVAL, "num_frames": "?"}, "base_model": None,
            "plain_lm_eval": True}


UNITS_KEY = "accuracy_units"
"""Key in a task config's `metadata` (DreamFrame's task templates set it to "percent") that lm-eval copies
into its results file under `configs`: how the board knows the units of a plain lm-eval result."""


def accuracy_scale(data: dict[str, Any], task: str, subtasks: dict[str, list[str]], value: float) -> float:
    """The factor that turns a plain lm-eval accuracy into percent: 1 when every task under `task` declares
    `metadata.accuracy_units: percent` in the results' `configs`, else 100 (lm-eval's own metrics are 0-1
    fractions) - unless the value is above 1, which no fraction is."""
    configs = data.get("configs") or {}
    leaves = _leaves(task, subtasks)
    declared = [((configs.get(t) or {}).get("metadata") or {}).get(UNITS_KEY) for t in leaves]
    return 1.0 if (declared and all(u == "percent" for u in declared)) or value > 1 else 100.0


def _dreamframe_block(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    block = data.get("dreamframe")
    if block is None and "lm_eval_version" in data:
        return plain_lm_eval_block(data)
    if not isinstance(block, dict):
        raise LeaderboardError(f"{path}: no 'dreamframe' block (written by python -m eval.run) and not an "
                               "lm-eval results file (no lm_eval_version)")
    for key in ("model", "judge", "frame_sampling"):
        if key not in block:
            raise LeaderboardError(f"{path}: dreamframe.{key} is missing")
    fs = block["frame_sampling"]
    if not isinstance(fs, dict) or "rule" not in fs or "num_frames" not in fs:
        raise LeaderboardError(f"{path}: dreamframe.frame_sampling needs 'rule' and 'num_frames'")
    if not isinstance(block["judge"], dict) or "name" not in block["judge"]:
        raise LeaderboardError(f"{path}: dreamframe.judge needs at least 'name'")
    if block.get("units") != "percent":
        raise LeaderboardError(f"{path}: dreamframe.units is {block.get('units')!r}, not 'percent': written by an "
                               "older eval.run (accuracy as a 0-1 fraction on some tasks); run the same eval.run "
                               "command again - answers come from its cache")
    return block


def read_samples(path: Path, metric: str, filt: str) -> dict[Any, float] | None:
    """Per-sample numeric values of `metric` keyed by doc_id, or None when absent or not numeric; a sample
    whose value is null is not counted by that metric (Video-MME's `acc` over answered questions)."""
    if not path.is_file():
        return None
    out: dict[Any, float] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise LeaderboardError(f"{path}:{lineno}: not valid JSON ({err})") from err
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


def judge_report_samples(folder: Path, task: str, metric: str) -> dict[Any, float] | None:
    """Per-item judge verdicts from `<model>/judge_reports/<task>.json` (eval.judges writes them):
    accuracy = 100 for 'yes', 0 for 'no'; other metrics take the item's 'score'. Uncounted items
    (unparsable under the parse rule) are left out, as in the reported number."""
    path = folder / "judge_reports" / f"{task}.json"
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


def load_results_file(path: Path, benchmarks: dict[str, dict[str, Any]]) -> list[Entry]:
    """Every (task, metric) number of one lm-eval results file, with judge and frame setting."""
    data = _read_json(path)
    block = _dreamframe_block(path, data)
    if not isinstance(data.get("results"), dict):
        raise LeaderboardError(f"{path}: 'results' is missing or not an object")
    stamp = path.stem[len("results_"):]
    subtasks = data.get("group_subtasks", {}) or {}
    parent_of = {sub: grp for grp, subs in subtasks.items() for sub in subs or []}
    tasks = {**data.get("groups", {}), **data["results"]}
    entries = []
    for task, result in tasks.items():
        if not isinstance(result, dict):
            raise LeaderboardError(f"{path}: results[{task!r}] is not an object")
        parent = parent_of.get(task)
        bench = benchmark_of(task, benchmarks) or (benchmark_of(parent, benchmarks) if parent else None) or task
        judge_label, judge_key = _judge_of(block, task, subtasks, benchmarks.get(bench, {}).get("judged", True))
        frames = _frames_of(block, task, subtasks)
        partial = _partial_of(block, task, subtasks)
        board = bench if is_headline(task, bench, benchmarks) else task
        metrics = _metric_keys(result)
        beside = _beside(metrics)
        for metric, (raw, filt, value) in metrics.items():
            if beside and metric in BESIDE_METRICS:
                continue
            scale = accuracy_scale(data, task, subtasks, value) if block.get("plain_lm_eval") and metric == "accuracy" else 1.0
            value *= scale
            e = Entry(model=str(block["model"]), benchmark=bench, task=task, metric=metric, value=value,
                      judge=judge_label, judge_key=judge_key,
                      frames=frames, source=str(path), base_model=block.get("base_model"),
                      parent=parent, fingerprint=str(block.get("model_fingerprint", "")), raw_metric=raw,
                      errors=_errors_of(block, task, subtasks), partial=partial,
                      board=f"{board} (partial)" if partial else board, beside=beside if metric == "accuracy" else "")
            if parent:
                e.subtask = task[len(parent):].strip("_") if task.startswith(parent) else task
            e.samples = {} if math.isfinite(value) else None
            for name in _leaves(task, subtasks) if e.samples is not None else []:
                s = read_samples(path.parent / f"samples_{name}_{stamp}.jsonl", raw, filt)
                s = s or judge_report_samples(path.parent, name, metric)
                if s is None:
                    e.samples = None
                    break
                e.samples[name] = {k: v * scale for k, v in s.items()}
            if e.samples:
                e.n = sum(len(s) for s in e.samples.values())
                weights = ((block.get("groups") or {}).get(task) or {}).get("weights")
                e.aggregate = [float(weights[name]) for name in e.samples] if weights else _aggregate_rule(e)
                if not _reproduces(e):  # a stale or foreign per-sample file: no interval rather than a wrong one
                    e.samples, e.n = None, None
            n_samples = (data.get("n-samples") or {}).get(task, {})
            e.n = e.n or n_samples.get("effective")
            entries.append(e)
    return entries


def _members(task: str, subtasks: dict[str, list[str]]) -> list[str]:
    """The task itself and, for a group, every task below it."""
    out = [task]
    for sub in subtasks.get(task) or []:
        out += _members(sub, subtasks)
    return out


def _leaves(task: str, subtasks: dict[str, list[str]]) -> list[str]:
    """The tasks with per-sample files under `task` (itself when it has no subtasks; nested groups descend)."""
    return [t for t in dict.fromkeys(_members(task, subtasks)) if not subtasks.get(t)]


def _partial_of(block: dict[str, Any], task: str, subtasks: dict[str, list[str]]) -> bool:
    """Measured on a partial download: the task, its group record, or any task below it says so."""
    per_task, groups = block.get("per_task") or {}, block.get("groups") or {}
    return any(bool((per_task.get(t) or groups.get(t) or {}).get("partial")) for t in _members(task, subtasks))


def _judge_label(j: dict[str, Any]) -> tuple[str, str]:
    """(label shown in cells, key numbers are ranked under) of one judge record."""
    name = j.get("name") or NO_JUDGE
    if name == NO_JUDGE:
        return NO_JUDGE, NO_JUDGE
    label = f"{name} ({j['model']})" if j.get("model") else name
    return label, PUBLISHED_PROTOCOL if j.get("comparable_to_published") else label


def _judge_of(block: dict[str, Any], task: str, subtasks: dict[str, list[str]], judged: bool) -> tuple[str, str]:
    """The judge a task's numbers were measured with: from the per-task record when the results carry
    one (a group takes its subtasks' judges), else the file's judge for benchmarks that use one."""
    if block.get("plain_lm_eval"):  # judge unknown: ranked only among plain lm-eval results
        return PLAIN_LM_EVAL, PLAIN_LM_EVAL
    judge = block["judge"]
    per_task = judge.get("per_task")
    if isinstance(per_task, dict):
        found = {_judge_label(per_task[t]) for t in _members(task, subtasks) if t in per_task}
        if not found:
            return NO_JUDGE, NO_JUDGE
        if len(found) == 1:
            return found.pop()
        label = "mixed: " + ", ".join(sorted(f[0] for f in found))
        return label, label
    return _judge_label(judge) if judged else (NO_JUDGE, NO_JUDGE)


def _errors_of(block: dict[str, Any], task: str, subtasks: dict[str, list[str]]) -> dict[str, int]:
    """Missing/unreadable videos and unparsable judge replies, summed over a group's tasks."""
    out: dict[str, int] = defaultdict(int)
    for t in _members(task, subtasks):
        for k, v in ((block.get("errors") or {}).get(t) or {}).items():
            if isinstance(v, (int, float)):
                out[k] += int(v)
    missing = (((block.get("groups") or {}).get(task) or {}).get("missing") or {})
    if "questions" in missing:  # a group's own count: formats sharing a video count it once
        out["skipped_questions"], out["missing_video"] = missing["questions"], missing["videos"]
    return {k: v for k, v in out.items() if v}


def _frames_of(block: dict[str, Any], task: str, subtasks: dict[str, list[str]]) -> str:
    """The frame setting (`rule xN`), with the evaluation protocol when it was not the default."""
    if block.get("plain_lm_eval"):
        return PLAIN_LM_EVAL
    protocols = {f"official protocol ({p.get('family')})" for t in _members(task, subtasks)
                 for p in [((block.get("per_task") or {}).get(t) or {}).get("protocol") or {}]
                 if p.get("name") == "official"}
    frames = _frame_text(block, task, subtasks)
    return "; ".join([frames, *sorted(protocols)])


def _frame_text(block: dict[str, Any], task: str, subtasks: dict[str, list[str]]) -> str:
    fs = block["frame_sampling"]
    per_task = fs.get("per_task")
    if isinstance(per_task, dict):
        found = {f"{per_task[t]['rule']} x{per_task[t]['num_frames']}" for t in _members(task, subtasks)
                 if isinstance(per_task.get(t), dict) and "rule" in per_task[t]}
        if found:
            return found.pop() if len(found) == 1 else "mixed: " + ", ".join(sorted(found))
    return f"{fs['rule']} x{fs['num_frames']}"


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

