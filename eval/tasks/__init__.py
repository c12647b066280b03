"""Registry of benchmarks and their lm-eval task names, and the step that turns `--data-root` into tasks.

Each benchmark is a folder `eval/tasks/<bench>/` (see README.md there) whose `__init__.py` reads the
official annotation files into plain rows. `materialise` writes, per lm-eval task, the rows as JSONL
and a two-line task YAML that `include:`s the benchmark's static template and points
`dataset_path: json` at those rows; that folder is the include path handed to lm-eval's TaskManager.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from dreamframe.atomic import atomic_write_text

# benchmark name (as given to --tasks) -> module, or "module:attribute" for an object with a module's face.
BENCHMARKS: dict[str, str] = {
    "dreamframe_heldout": "eval.tasks.dreamframe",
    "mvbench": "eval.tasks.mvbench",
    "msvd_qa": "eval.tasks.open_qa.bench:msvd_qa",
    "msrvtt_qa": "eval.tasks.open_qa.bench:msrvtt_qa",
    "tgif_qa": "eval.tasks.open_qa.bench:tgif_qa",
    "activitynet_qa": "eval.tasks.open_qa.bench:activitynet_qa",
    "vcgbench": "eval.tasks.vcgbench",
    "tempcompass": "eval.tasks.tempcompass",
    "videomme": "eval.tasks.videomme",
    "videomme_w_subs": "eval.tasks.videomme.with_subtitles",
}


@dataclass
class Materialised:
    include_path: Path
    task_names: list[str]
    """What to pass to lm-eval: group names for whole benchmarks, task names otherwise."""
    frame_sampling: dict[str, dict[str, Any]] = field(default_factory=dict)
    """lm-eval task -> {"rule", "num_frames"} actually used."""
    num_docs: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """tasks left out, with the reason (e.g. no items of that kind in the data)."""


def load_benchmark(name: str) -> ModuleType:
    module, _, attribute = BENCHMARKS[name].partition(":")
    loaded = importlib.import_module(module)
    return getattr(loaded, attribute) if attribute else loaded


def all_task_names() -> dict[str, list[str]]:
    """benchmark -> its lm-eval task names (the registry `eval.run --list-tasks` prints)."""
    return {name: list(load_benchmark(name).TASKS) for name in BENCHMARKS}


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


def materialise(names: list[str], data_root: str | Path, work_dir: str | Path,
                num_frames: int | None = None, rule: str | None = None,
                data_dirs: dict[str, str] | None = None) -> Materialised:
    """Read each benchmark's official files under `data_root` and write lm-eval task YAMLs + JSONL."""
    work_dir = Path(work_dir).resolve()
    tasks_dir, rows_dir = work_dir / "tasks", work_dir / "data"
    result = Materialised(include_path=tasks_dir, task_names=[])
    for bench_name, wanted in resolve(names).items():
        bench = load_benchmark(bench_name)
        root = Path(data_dirs[bench_name]) if data_dirs and bench_name in data_dirs else bench.find_root(Path(data_root))
        default = bench.default_frames(root) if hasattr(bench, "default_frames") else bench.DEFAULT_FRAMES
        frames = {"num_frames": num_frames or default["num_frames"], "rule": rule or default["rule"]}
        made = []
        for task in wanted or list(bench.TASKS):
            rows = bench.prepare(root, task, **frames)
            for row in rows:  # every video path of an annotation file is confined to the benchmark folder
                row["video"]["root"] = str(root)
            if not rows:
                result.skipped[task] = f"no items in {root}"
                continue
            data_file = rows_dir / f"{task}.jsonl"
            atomic_write_text(data_file, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
            spec = {"include": str(Path(bench.__file__).with_name(bench.template(task))), "task": task,
                    "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(data_file)}},
                    "test_split": "test"}
            atomic_write_text(tasks_dir / f"{task}.yaml", yaml.safe_dump(spec, sort_keys=False))
            result.frame_sampling[task] = dict(frames)
            result.num_docs[task] = len(rows)
            made.append(task)
        if not made:
            raise ValueError(f"{bench_name}: no items found under {root} for {wanted or 'any task'}")
        if wanted is None and getattr(bench, "GROUP", None) is not None:
            group = {"group": bench_name, "task": made, **bench.GROUP}
            atomic_write_text(tasks_dir / f"_{bench_name}_group.yaml", yaml.safe_dump(group, sort_keys=False))
            result.task_names.append(bench_name)
        else:
            result.task_names.extend(made)
    return result
