"""One run's context: the judge section, where judge files go, and what the task hooks report back.

lm-eval calls a task's hooks with its items alone (`agg_acc(items)`), so `eval.run` hands the context to
the task objects: `task_manager()` below binds it to every aggregation hook that takes a `ctx` argument
(`agg_acc(items, ctx=...)`). The hooks build and record their judge through it, and `eval.run` reads
it back into the results record (eval/results.py). Run from `lm_eval`'s own CLI, a hook gets a fresh
default context (the offline lexical judge, no files written).
"""

from __future__ import annotations

import functools
import inspect
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.results import JudgeRecord

if TYPE_CHECKING:
    from eval.judges.judge import Judge, JudgeConfig
    from eval.judges.options import JudgeOptions

VERDICTS_DIRNAME = "judge_reports"


@dataclass
class RunContext:
    out_dir: Path | None = None
    """Folder of this model's results; the judge cache and per-item verdicts go under it."""
    judge_name: str = "auto"
    """Judge asked for on the command line (`auto`: the best one available offline)."""
    judge_options: JudgeOptions | None = None
    """Typed overrides of the named judge's section (eval/judges/options.py)."""
    judge_config: JudgeConfig | None = None
    """The typed judge section resolved from `judge_name` + `judge_options` (`judge_section()`)."""
    judges_used: dict[str, JudgeRecord] = field(default_factory=dict)
    """task -> who judged it, as reported by the task's hooks."""
    judge_unparsable: Counter = field(default_factory=Counter)
    """task -> judge replies that were not a usable verdict."""
    verdicts: dict[str, str] = field(default_factory=dict)
    """task -> its per-item verdicts file, relative to `out_dir`."""

    def judge_section(self) -> JudgeConfig:
        """The run's judge section, resolved and checked once (eval.run does it before any model loads)."""
        from eval.judges.select import judge_config

        if self.judge_config is None:
            cache = None if self.out_dir is None else Path(self.out_dir) / "judge_cache"
            self.judge_config = judge_config(self.judge_name, self.judge_options, cache)
        return self.judge_config

    def judge(self) -> Judge:
        """The judge of the run's section (built once per process and section)."""
        from eval.judges.select import built_judge

        return built_judge(self.judge_section())

    def note_judge(self, task: str, record: JudgeRecord) -> None:
        self.judges_used[task] = record

    def record_judged(self, task: str, summary: dict[str, Any], record: JudgeRecord) -> None:
        """What one task's judging gave (idempotent: each metric's aggregation reports the same summary):
        who judged, the unparsable replies, and the per-item verdicts file (failed requests are in it)."""
        self.note_judge(task, record)
        self.judge_unparsable[task] = int(summary.get("judge_unparsable", 0) or 0)
        if self.out_dir is not None and task not in self.verdicts:
            from dreamframe.atomic import atomic_write_text

            name = f"{VERDICTS_DIRNAME}/{task}.json"
            atomic_write_text(Path(self.out_dir) / name, json.dumps(summary, indent=1, ensure_ascii=False, default=str))
            self.verdicts[task] = name


def bind(hook: Any, ctx: RunContext) -> Any:
    """`hook` with `ctx` bound when it takes one (the judged aggregations), else `hook` itself."""
    try:
        takes_ctx = "ctx" in inspect.signature(hook).parameters
    except (TypeError, ValueError):  # a builtin aggregation (mean, ...)
        return hook
    if not takes_ctx:
        return hook

    @functools.wraps(hook)
    def bound(items: list[Any]) -> Any:
        return hook(items, ctx=ctx)

    return bound


def task_manager(include_path: Path, ctx: RunContext) -> Any:
    """lm-eval's TaskManager over the materialised tasks, whose loaded tasks carry `ctx` in their hooks."""
    from lm_eval.tasks import TaskManager

    class _Bound(TaskManager):
        def load(self, task_list: Any) -> Any:
            loaded = super().load(task_list)
            for task in loaded["tasks"].values():
                aggregations = task.aggregation()
                for metric, hook in list(aggregations.items()):
                    aggregations[metric] = bind(hook, ctx)
            return loaded

    return _Bound(include_path=str(include_path), include_defaults=False)
