"""The step that turns `--data-root` into lm-eval tasks, for the benchmarks of eval.tasks.registry.

Each benchmark is a folder `eval/tasks/<bench>/` (see README.md there) with a `benchmark.yaml` card
and an `__init__.py` that reads the official annotation files into plain rows. `materialise` writes,
per lm-eval task, the rows as JSONL and a two-line task YAML that `include:`s the benchmark's static
template and points `dataset_path: json` at those rows; that folder is the include path handed to
lm-eval's TaskManager.

Partial downloads: asked for a whole benchmark, a sub-task whose annotation file is absent is left out,
and so is every question whose video is absent; both are counted, the tasks and the benchmark's group
are marked `partial` (the group's alias says so), and the group scores the sub-tasks that are there.
A sub-task named on its own must be complete: its missing file is an error.

Rows that cannot be scored safely (a question over `max_question_chars`, a video path no file system can
open, one leading outside the benchmark folder) are left out one by one and counted (row_checks.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from dreamframe.atomic import atomic_write_text
from dreamframe.clip import ClipSpec
from dreamframe.frames import SamplingRule
from eval.judges.judge import JudgeConfig
from eval.judges.select import rules_only
from eval.tasks.common import AnnotationMissing
from eval.tasks.row_checks import drop_unusable
from eval.tasks.registry import BENCHMARKS, Benchmark, all_task_names, benchmark_folder, load_benchmark

GROUPS_DIR = "groups"
"""Subfolder of the task folder holding group YAMLs: out of a `<tasks>/*.yaml` glob, inside --include_path."""
MISSING_EXAMPLES = 20
"""Missing videos listed by name per task (all are counted)."""


@dataclass
class Materialised:
    include_path: Path
    task_names: list[str]
    """What to pass to lm-eval: group names for whole benchmarks, task names otherwise."""
    frame_sampling: dict[str, ClipSpec] = field(default_factory=dict)
    """lm-eval task -> the clip spec its rows were written with."""
    num_docs: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """tasks left out, with the reason (e.g. no items of that kind in the data, or its file is missing)."""
    missing: dict[str, dict[str, Any]] = field(default_factory=dict)
    """task or group -> what a partial download lacks: {"questions": skipped, "videos": distinct files,
    "video_examples": [...], "tasks": {task: why}}."""
    absent_videos: dict[str, set[str]] = field(default_factory=dict, repr=False)
    """task -> every missing video file (a benchmark's count is their union: formats share videos)."""
    parse_rules: dict[str, str] = field(default_factory=dict)
    """lm-eval task -> how the benchmark turns a model's answer into a verdict (its module's PARSE_RULE)."""
    group_weights: dict[str, dict[str, float]] = field(default_factory=dict)
    """group -> {task: weight} for benchmarks whose official score is a weighted mean (Video-Bench)."""
    skipped_items: dict[str, dict[str, Any]] = field(default_factory=dict)
    """task -> rows left out as unsafe to score: {"counts": {kind: n}, "examples": [...]} (row_checks.py)."""
    protocols: dict[str, dict[str, Any]] = field(default_factory=dict)
    """lm-eval task -> the evaluation protocol record (eval/protocol.py) when one was asked for."""

    def partial(self, name: str) -> bool:
        return name in self.missing


def resolve(names: list[str]) -> dict[str, list[str] | None]:
    """benchmark -> requested tasks (None = the whole benchmark, reported as its group)."""
    out: dict[str, list[str] | None] = {}
    owners = {task: bench for bench, tasks in all_task_names().items() for task in tasks}
    for name in names:
        if name in BENCHMARKS:
            out[name] = None
        elif name in owners:
            bench = owners[name]
            if out.get(bench, []) is not None:
                out.setdefault(bench, []).append(name)  # type: ignore[union-attr]
        else:
            known = ", ".join(sorted(BENCHMARKS) + sorted(owners))
            raise KeyError(f"unknown task {name!r}; known: {known}")
    return out


def split_missing_videos(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows whose video exists, where the video of each skipped row was looked for: one entry per question)."""
    present, absent = [], []
    for row in rows:
        if Path(row["video"]["path"]).exists():
            present.append(row)
        else:
            absent.append(row.get("video_searched") or row["video"]["path"])
    return present, absent


def missing_text(record: dict[str, Any]) -> str:
    """'3 question(s) skipped, 1 video(s) missing' (results aliases, logs and the leaderboard say the same)."""
    return f"{record.get('questions', 0)} question(s) skipped, {record.get('videos', 0)} video(s) missing"


def parse_rule(bench: Benchmark, task: str) -> str | None:
    rule = getattr(bench, "PARSE_RULE", None)
    return rule.get(task) if isinstance(rule, dict) else rule


def materialise(names: list[str], data_root: str | Path, work_dir: str | Path,
                num_frames: int | None = None, rule: SamplingRule | str | None = None,
                data_dirs: dict[str, str] | None = None, judge: str | JudgeConfig = "auto",
                max_question_chars: int | None = None,
                protocol: Callable[[str, ClipSpec], dict[str, Any]] | None = None,
                need_videos: bool = True, max_per_type: int | None = None) -> Materialised:
    """Read each benchmark's official files under `data_root` and write lm-eval task YAMLs + JSONL; a row
    whose question is over `max_question_chars` characters (None: no limit) is skipped and counted.
    `num_frames` / `rule` replace the benchmark's protocol frames (`frames_for`); `protocol(benchmark, clip)`
    returns a protocol record whose `applied` frames replace the clip;
    `need_videos=False` (answers from --predictions: no video is read) keeps questions whose video is absent;
    `max_per_type`: only the fixed subset of at most that many questions per type (benchmarks with a
    `subset` function: the DreamFrame held-out set)."""
    work_dir = Path(work_dir).resolve()
    result = Materialised(include_path=work_dir / "tasks", task_names=[])
    for bench_name, wanted in resolve(names).items():
        bench = load_benchmark(bench_name)
        if max_per_type is not None and not hasattr(bench, "subset"):
            raise ValueError(f"--max_per_type: {bench_name} has no question types to take a subset of "
                             "(only dreamframe_heldout has); leave it out for this benchmark")
        root = Path(data_dirs[bench_name]) if data_dirs and bench_name in data_dirs else bench.find_root(Path(data_root))
        default = bench.default_frames(root) if hasattr(bench, "default_frames") else bench.DEFAULT_FRAMES
        frames = ClipSpec(num_frames or default.num_frames, rule or default.rule)
        limits = {"bench_name": bench_name, "max_question_chars": max_question_chars}
        record = protocol(bench_name, frames) if protocol is not None else None
        if record is not None:
            frames = ClipSpec(record["applied"]["num_frames"], record["applied"]["frame_sampling"])
        missing_tasks: dict[str, str] = {}
        templates = benchmark_folder(bench_name)
        made = [task for task in wanted or list(bench.TASKS)
                if _materialise_task(bench, task, root, frames, work_dir, result, missing_tasks,
                                     whole=wanted is None, judge=judge, templates=templates, need_videos=need_videos,
                                     max_per_type=max_per_type,
                                     **limits)]
        result.protocols.update({t: record for t in made if record is not None})
        if not made:
            reasons = "; ".join(f"{t}: {why}" for t, why in {**missing_tasks, **result.skipped}.items())
            raise ValueError(f"{bench_name}: no items found under {root} for {wanted or 'any task'} ({reasons})")
        members = [*made, *missing_tasks]
        questions = sum(result.missing.get(t, {}).get("questions", 0) for t in members)
        videos = len(set().union(*(result.absent_videos.get(t, set()) for t in members)))
        if (missing_tasks or videos) and bench_name not in made:  # (a one-task benchmark has its task's record)
            result.missing[bench_name] = {"questions": questions, "videos": videos, "tasks": dict(missing_tasks)}
        if wanted is None and getattr(bench, "GROUP", None) is not None:
            _write_group(bench, bench_name, made, len(missing_tasks), result)
        else:
            result.task_names.extend(made)
    return result


def _materialise_task(bench: Benchmark, task: str, root: Path, frames: ClipSpec, work_dir: Path,
                      result: Materialised, missing_tasks: dict[str, str], whole: bool, judge: str | JudgeConfig,
                      templates: Path, need_videos: bool = True, bench_name: str = "",
                      max_question_chars: int | None = None, max_per_type: int | None = None) -> bool:
    """Write one task's rows and YAML; False (with the reason recorded) when it has nothing to score."""
    if task in getattr(bench, "NEEDS_LLM_JUDGE", ()) and rules_only(judge):
        why = "needs a judge (the authors' --disable_llm does not cover it); not scored with --judge exact_match"
        missing_tasks[task] = result.skipped[task] = why
        return False
    try:
        rows = bench.prepare(root, task, frames.num_frames, str(frames.rule))
    except AnnotationMissing as err:
        if not whole:
            raise
        missing_tasks[task] = result.skipped[task] = str(err)
        return False
    if max_per_type is not None:
        rows = bench.subset(rows, max_per_type)
    for row in rows:  # every video path of an annotation file is confined to the benchmark folder
        row["video"]["root"] = str(root)
    rows, skipped = drop_unusable(bench_name, task, rows, root, max_question_chars)
    if skipped.counts:
        result.skipped_items[task] = skipped.as_dict()
    rows, absent = split_missing_videos(rows) if need_videos else (rows, [])
    if absent:
        files = list(dict.fromkeys(absent))
        result.absent_videos[task] = set(files)
        result.missing[task] = {"questions": len(absent), "videos": len(files),
                                "video_examples": files[:MISSING_EXAMPLES], "tasks": {}}
    if not rows:
        result.skipped[task] = (f"all {missing_text(result.missing[task])}" if absent else
                                f"all {sum(skipped.counts.values())} item(s) unusable" if skipped.counts else
                                f"no items in {root}")
        if absent:
            missing_tasks[task] = result.skipped[task]
        return False
    data_file = work_dir / "data" / f"{task}.jsonl"
    atomic_write_text(data_file, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    spec = {"include": str(templates / bench.template(task)), "task": task,
            "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(data_file)}}, "test_split": "test"}
    atomic_write_text(result.include_path / f"{task}.yaml", yaml.safe_dump(spec, sort_keys=False))
    result.frame_sampling[task] = frames
    result.num_docs[task] = len(rows)
    result.parse_rules[task] = parse_rule(bench, task)
    return True


def _write_group(bench: Benchmark, name: str, made: list[str], n_missing: int, result: Materialised) -> None:
    """The benchmark's group over the tasks that are there; labelled partial when anything was missing."""
    group: dict[str, Any] = {"group": name, "task": made, **bench.GROUP}
    if name in result.missing:
        group["group_alias"] = (f"{name} (partial: {len(made)} of {len(made) + n_missing} tasks, "
                                f"{missing_text(result.missing[name])})")
    # in a subfolder: lm-eval's --include_path finds it (it searches **/*.yaml), a `tasks/*.yaml` glob does not
    # (lm-eval 0.4.13 reads each globbed file as a task config and fails on a group's keys)
    atomic_write_text(result.include_path / GROUPS_DIR / f"{name}.yaml", yaml.safe_dump(group, sort_keys=False))
    (result.include_path / f"_{name}_group.yaml").unlink(missing_ok=True)  # where earlier versions wrote it
    result.task_names.append(name)
    if hasattr(bench, "group_weights"):
        weights = bench.group_weights(made)
        result.group_weights.update(weights)
        for sub in weights:  # a partial download makes every score built from it partial
            if name in result.missing and sub != name:
                result.missing[sub] = result.missing[name]
