"""The results record: one type that `eval.run` writes and the leaderboard and `eval.summary` read.

A results file is lm-eval's own layout (`results`, `groups`, `group_subtasks`, `configs`, `n-samples`, ...)
plus one "dreamframe" block, `RunRecord.block()`: the run (model, fingerprint, source, packages, config,
`format_version`) and per task one `TaskRecord` (judge, parse rule, prompt hashes, clip, protocol,
partial/missing, errors, counts, the per-item verdicts file). Each fact is stored once: a task's numbers
stay in lm-eval's `results` (read into `TaskRecord.metrics`), its provenance only in `tasks[<task>]`.
What spans tasks (the run's judge, `partial`) is computed from the tasks, never stored beside them.

    record = RunRecord.read(path)           # a results file of eval.run, or of lm_eval itself
    record.tasks["mvbench_action_count"].clip.num_frames
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = 2
"""2: the "dreamframe" block is `RunRecord.block()` (issue 25). 1 (no `format_version`): per-task provenance
in `per_task`, `judge.per_task` and `frame_sampling.per_task`; refused with a message (run eval.run again)."""
PLAIN_LM_EVAL_SOURCE = "plain lm-eval"
"""`RunRecord.source` of a results file written by `lm_eval` itself: judge and frames not recorded."""
NOT_IN_BLOCK = {"in_block": False}
"""Field metadata: filled on reading from lm-eval's part of the file (or the file's own path), never
written into the "dreamframe" block - so nothing is stored twice."""


class ResultsError(ValueError):
    """A results file that cannot be read as a record; the message names the file and the field."""


@dataclass
class JudgeRecord:
    """Who judged a task's answers ("none": rules or likelihoods only) and how its replies were read."""

    name: str = "none"
    model: str | None = None
    """The pinned judge model (an API snapshot id or a local folder); None for rule-based judges."""
    comparable_to_published: bool = True
    """Whether the numbers compare with published ones (only the pinned endpoint, model and prompts do)."""
    parse_rule: str | None = None
    """How judge replies were read (eval/judges/parsing.py, or the benchmark's own rule)."""
    prompt_sha256: dict[str, str] = field(default_factory=dict)
    """judge prompt name -> sha256 of its text."""


@dataclass
class ClipRecord:
    """The frames a task was scored on: chosen by `rule` (dreamframe.frames), `num_frames` per video."""

    num_frames: int | None = None
    rule: str | None = None
    to_model: int | None = None
    """Frames per video actually handed to the model (None: no video was read, e.g. --predictions)."""


@dataclass
class TaskRecord:
    """One lm-eval task of a run: its numbers and everything they were made with."""

    judge: JudgeRecord = field(default_factory=JudgeRecord)
    parse_rule: str | None = None
    """How the benchmark turns a model's answer into a verdict (its module's PARSE_RULE)."""
    clip: ClipRecord = field(default_factory=ClipRecord)
    protocol: dict[str, Any] = field(default_factory=lambda: {"name": "default"})
    """{"name": "default"} or the official setting followed (eval/protocol.py: family, published, applied)."""
    partial: bool = False
    """Scored on a partial download (see `missing`): ranked only with other partial numbers."""
    missing: dict[str, Any] | None = None
    """What the partial download lacks: {"questions", "videos", "video_examples", ...}."""
    num_docs: int | None = None
    """Questions scored (after --limit / --max-per-type and skipped items)."""
    errors: dict[str, int] = field(default_factory=dict)
    """missing_video, skipped_questions, unreadable, judge_unparsable (and missing_prediction)."""
    error_items: list[dict[str, Any]] = field(default_factory=list)
    """The questions behind the error counts: {"doc_id", "kind", "message"}."""
    verdicts: str | None = None
    """The per-item judge verdicts file, relative to the results file's folder (None: not judged)."""
    metrics: dict[str, Any] = field(default_factory=dict, metadata=NOT_IN_BLOCK)
    """lm-eval's `results[<task>]`: "<metric>,<filter>" -> value (accuracies in percent)."""
    n_samples: int | None = field(default=None, metadata=NOT_IN_BLOCK)
    """lm-eval's `n-samples[<task>].effective`."""
    samples: str | None = field(default=None, metadata=NOT_IN_BLOCK)
    """The per-sample log lm-eval wrote beside the results file (its name; None when absent)."""
    config: dict[str, Any] = field(default_factory=dict, metadata=NOT_IN_BLOCK)
    """lm-eval's `configs[<task>]` (its `metadata.accuracy_units` says the units of plain lm-eval numbers)."""


@dataclass
class GroupRecord:
    """A benchmark scored as a group of tasks (MVBench's 20): how its number pools them."""

    partial: bool = False
    missing: dict[str, Any] | None = None
    """A group's own count (formats sharing a video count it once) and the tasks left out entirely."""
    weights: dict[str, float] | None = None
    """task -> weight where the official score is a weighted mean (Video-Bench); None: lm-eval's own pooling."""
    subtasks: list[str] = field(default_factory=list, metadata=NOT_IN_BLOCK)
    metrics: dict[str, Any] = field(default_factory=dict, metadata=NOT_IN_BLOCK)


@dataclass
class RunRecord:
    """One `eval.run` (or `lm_eval`) run of one model: what was scored, with what, and every task's record."""

    model: str
    """Name in results and the leaderboard."""
    model_fingerprint: str = ""
    """Hash of the weights (answers of different weights never mix in caches or on the board)."""
    source: str = ""
    """Where the model came from: a trained folder, a tiny preset, a hub id, `predictions`, or plain lm-eval."""
    model_path: str | None = None
    base_model: str | None = None
    family: str | None = None
    packages: dict[str, str | None] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    """The resolved `eval.run` config (EvalConfig)."""
    judge_config: dict[str, Any] | None = None
    """The resolved judge section (eval.judges.JudgeConfig) the tasks' judges were built from."""
    frames_source: str = ""
    """Where the frame counts and rules came from: command line, trained model, benchmark or official protocol."""
    answers: dict[str, Any] = field(default_factory=dict)
    """How the answers were obtained: generated, options_scored, from_cache, ... (or the predictions file)."""
    batch_size: int | None = None
    limit: int | None = None
    skipped_items: dict[str, Any] = field(default_factory=dict)
    """task -> rows left out as unsafe to score: {"counts", "examples"} (eval/tasks/row_checks.py)."""
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    groups: dict[str, GroupRecord] = field(default_factory=dict)
    units: str = "percent"
    format_version: int = FORMAT_VERSION
    path: Path | None = field(default=None, metadata=NOT_IN_BLOCK)
    """The results file this record was read from."""

    @property
    def plain_lm_eval(self) -> bool:
        return self.source == PLAIN_LM_EVAL_SOURCE

    @property
    def partial(self) -> bool:
        """Any task or group scored on a partial download."""
        return any(r.partial for r in [*self.tasks.values(), *self.groups.values()])

    def is_partial(self, name: str) -> bool:
        """A task, or a group or any task below it, scored on a partial download."""
        records = [self.tasks.get(t) or self.groups.get(t) for t in self.members(name)]
        return any(r.partial for r in records if r is not None)

    def members(self, name: str) -> list[str]:
        """A task itself, or a group and every task and group below it."""
        out = [name]
        for sub in self.groups[name].subtasks if name in self.groups else []:
            out += self.members(sub)
        return list(dict.fromkeys(out))

    def leaves(self, name: str) -> list[str]:
        """The tasks under `name` that have records of their own (itself when it is a task)."""
        return [t for t in self.members(name) if t in self.tasks]

    def judge_summary(self) -> JudgeRecord:
        """The run's judge: the one every judged task used, `mixed`, or `none` (computed, not stored)."""
        judged = [t.judge for t in self.tasks.values() if t.judge.name != "none"]
        names = {(j.name, j.model, j.comparable_to_published) for j in judged}
        if len(names) == 1:
            return judged[0]
        if not judged:
            return JudgeRecord()
        return JudgeRecord(name="mixed", comparable_to_published=all(j.comparable_to_published for j in judged))

    def block(self) -> dict[str, Any]:
        """The "dreamframe" block of the results file: this record without what lm-eval's part holds."""
        return _plain(self)

    @classmethod
    def from_block(cls, block: dict[str, Any], where: str = "dreamframe") -> RunRecord:
        """The record of a "dreamframe" block, its types checked; errors name the field under `where`."""
        version = block.get("format_version")
        if version is None:
            raise ResultsError(f"{where}.format_version is missing: written by an older eval.run (results "
                               f"format 1, provenance in per_task and judge.per_task); this reader reads format "
                               f"{FORMAT_VERSION}. Run the same eval.run command again - answers come from its cache")
        if version != FORMAT_VERSION:
            raise ResultsError(f"{where}.format_version is {version!r}; this reader reads {FORMAT_VERSION} "
                               "(update DreamFrame, or run eval.run again)")
        record = _build(cls, block, where)
        if record.units != "percent":
            raise ResultsError(f"{where}.units is {record.units!r}, not 'percent'")
        return record

    @classmethod
    def read(cls, path: str | Path) -> RunRecord:
        """The record of one results file: eval.run's (lm-eval's layout + the "dreamframe" block), or a plain
        lm-eval one (its judge and frames unknown). Raises ResultsError naming the file and field."""
        path = Path(path)
        data = _read_json(path)
        if not isinstance(data.get("results"), dict):
            raise ResultsError(f"{path}: 'results' is missing or not an object")
        block = data.get("dreamframe")
        if block is None and "lm_eval_version" in data:
            record = RunRecord(model=_plain_model_name(data), source=PLAIN_LM_EVAL_SOURCE,
                               units="as each task declares")
        elif isinstance(block, dict):
            try:
                record = cls.from_block(block)
            except ResultsError as err:
                raise ResultsError(f"{path}: {err}") from None
        else:
            raise ResultsError(f"{path}: no 'dreamframe' block (written by python -m eval.run) and not an "
                               "lm-eval results file (no lm_eval_version)")
        record.path = path
        _attach_lm_eval(record, data, path)
        return record


def _plain(obj: Any) -> Any:
    """A record as JSON data, leaving out the fields lm-eval's part of the file holds."""
    if dataclasses.is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if f.metadata.get("in_block", True)}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _build(cls: type, data: Any, where: str) -> Any:
    """`cls` from JSON data: unknown and missing keys and wrong types named by their dotted path."""
    if not isinstance(data, dict):
        raise ResultsError(f"{where}: expected an object, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.metadata.get("in_block", True)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ResultsError(f"{where}: unknown field(s) {unknown}")
    required = [n for n, f in fields.items() if f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING]
    for name in required:
        if name not in data:
            raise ResultsError(f"{where}.{name} is missing")
    hints = typing.get_type_hints(cls)
    return cls(**{name: _value(hints[name], value, f"{where}.{name}") for name, value in data.items()})


def _value(hint: Any, value: Any, where: str) -> Any:
    """`value` checked against the type hint (records, dicts of records, optional and plain JSON types)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    expected = {dict: dict, list: list}.get(origin, hint if isinstance(hint, type) else object)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ResultsError(f"{where}: expected {getattr(expected, '__name__', expected)}, got {value!r:.80}")
    if origin is dict and args and dataclasses.is_dataclass(args[1]):
        return {k: _build(args[1], v, f"{where}.{k}") for k, v in value.items()}
    return value


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ResultsError(f"{path}: not valid JSON ({err})") from err
    except OSError as err:
        raise ResultsError(f"{path}: cannot be read ({err.strerror})") from err
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object")
    return data


def _plain_model_name(data: dict[str, Any]) -> str:
    cfg = data.get("config") or {}
    args = cfg.get("model_args")
    named = args.get("model") or args.get("pretrained") if isinstance(args, dict) else None
    return str(data.get("model_name") or named or cfg.get("model") or "unknown (plain lm-eval)")


def _attach_lm_eval(record: RunRecord, data: dict[str, Any], path: Path) -> None:
    """Fill the fields lm-eval's part of the file holds: metrics, subtasks, counts, configs, sample logs
    (lm-eval names them `samples_<task>_<stamp>.jsonl` beside `results_<stamp>.json`)."""
    stamp = path.stem[len("results_"):]
    subtasks = data.get("group_subtasks") or {}
    for name in {g for g, subs in subtasks.items() if subs} | set(data.get("groups") or {}):
        record.groups.setdefault(name, GroupRecord()).subtasks = list(subtasks.get(name) or [])
    for name, result in {**(data.get("groups") or {}), **data["results"]}.items():
        if not isinstance(result, dict):
            raise ResultsError(f"{path}: results[{name!r}] is not an object")
        if name in record.groups:
            record.groups[name].metrics = result
            continue
        task = record.tasks.setdefault(name, TaskRecord())
        task.metrics = result
        task.n_samples = ((data.get("n-samples") or {}).get(name) or {}).get("effective")
        task.config = (data.get("configs") or {}).get(name) or {}
        samples = f"samples_{name}_{stamp}.jsonl"
        task.samples = samples if (path.parent / samples).is_file() else None
