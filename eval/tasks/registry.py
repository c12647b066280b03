"""The benchmarks `--tasks` may name, found by folder, and the published numbers beside them.

Every folder `eval/tasks/<bench>/` with a `benchmark.yaml` card is a benchmark: the card names the
module(s) offering the `Benchmark` members (imported only when a run asks for them), the
leaderboard's board(s) and the published reference numbers of those boards. Adding a benchmark is
adding its folder (eval/tasks/README.md says what goes in it); no list elsewhere names it.
Citations shared by several folders live in eval/tasks/sources.yaml; a card may add its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import yaml

from dreamframe.clip import ClipSpec
from dreamframe.registry import Registry

TASKS_DIR = Path(__file__).resolve().parent
CARD = "benchmark.yaml"
SOURCES = TASKS_DIR / "sources.yaml"
DEFAULT_ORDER = 1000
"""Where a board without `order` comes on the leaderboard page: after the others, in folder order."""


class Benchmark(Protocol):
    """What a benchmark module (or object) offers `eval.tasks.materialise`, checked when `load_benchmark`
    imports it (a missing member, or a DEFAULT_FRAMES that is not a ClipSpec, is a RegistryError naming it);
    the optional extras (PARSE_RULE, default_frames, NEEDS_LLM_JUDGE, subset, group_weights) are in
    eval/tasks/README.md."""

    NAME: str
    DATA_DIR: str
    DEFAULT_FRAMES: ClipSpec
    """The benchmark's protocol frames (a run's --num_frames / --frame_sampling or trained clip replace them)."""
    TASKS: dict[str, str]
    GROUP: dict[str, Any] | None

    def template(self, task: str) -> str:
        """The file name (in the benchmark's folder) of the lm-eval YAML the task includes."""

    def find_root(self, data_root: Path) -> Path:
        """The benchmark's official download under --data-root (BenchmarkDataError naming what is absent)."""

    def prepare(self, root: Path, task: str, num_frames: int, rule: str) -> list[dict[str, Any]]:
        """The rows of one lm-eval task."""


class CardError(ValueError):
    """A benchmark.yaml (or sources.yaml) that does not fit the format; names the file and the field."""


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise CardError(f"{path}: cannot read: {err}") from None
    if not isinstance(data, dict):
        raise CardError(f"{path}: expected a mapping at the top")
    return data


def cards(tasks_dir: Path = TASKS_DIR) -> dict[Path, dict[str, Any]]:
    """Every benchmark folder's card, by path, in folder order."""
    return {path: _read(path) for path in sorted(tasks_dir.glob(f"*/{CARD}"))}


def discover(tasks_dir: Path = TASKS_DIR) -> Registry[Benchmark]:
    """The benchmarks of every folder under `tasks_dir` that has a card."""
    registry: Registry[Benchmark] = Registry("benchmark", Benchmark, option="--tasks")
    for path, card in cards(tasks_dir).items():
        found = card.get("benchmarks")
        if not isinstance(found, dict) or not found:
            raise CardError(f"{path}: 'benchmarks' must map each --tasks name to its module")
        for name, target in found.items():
            registry.add(name, str(target), declared_in=str(path), folder=path.parent)
    return registry


BENCHMARKS = discover()


def load_benchmark(name: str) -> Benchmark:
    return BENCHMARKS.load(name)


def benchmark_folder(name: str) -> Path:
    """The folder holding the benchmark's lm-eval templates (its card's folder)."""
    return BENCHMARKS.entry(name).info["folder"]


def all_task_names() -> dict[str, list[str]]:
    """benchmark -> its lm-eval task names (the registry `eval.run --list-tasks` prints)."""
    return {name: list(load_benchmark(name).TASKS) for name in BENCHMARKS}


def _merge(into: dict[str, Any], more: Any, what: str, path: Path) -> None:
    if not isinstance(more, dict):
        raise CardError(f"{path}: '{what}' must be a mapping")
    for key, value in more.items():
        if key in into and into[key] != value:
            raise CardError(f"{path}: {what}.{key} differs from the one already defined (eval/tasks/sources.yaml or another card)")
        into[key] = value


def published(tasks_dir: Path = TASKS_DIR, sources: Path = SOURCES) -> dict[str, Any]:
    """The built-in reference numbers, in the format `eval.leaderboard --published FILE` reads:
    {"sources", "judges", "benchmarks" (the boards), "rows"}, gathered from every card."""
    shared = _read(sources)
    doc: dict[str, Any] = {"sources": dict(shared.get("sources", {})), "judges": dict(shared.get("judges", {})),
                           "benchmarks": {}, "rows": []}
    found = cards(tasks_dir)
    for path, card in found.items():
        _merge(doc["sources"], card.get("sources", {}), "sources", path)
        _merge(doc["judges"], card.get("judges", {}), "judges", path)
        boards = card.get("boards", {})
        _merge(doc["benchmarks"], boards, "boards", path)
    for path, card in found.items():
        boards = card.get("boards", {})
        for i, row in enumerate(card.get("published", []) or []):
            where = f"{path}: published[{i}]"
            if not isinstance(row, dict) or not {"model", "source", "values"} <= set(row):
                raise CardError(f"{where}: needs model, source and values")
            if row["source"] not in doc["sources"]:
                raise CardError(f"{where}: source {row['source']!r} is in neither {sources} nor a card's sources")
            if row.get("judge") and row["judge"] not in doc["judges"]:
                raise CardError(f"{where}: judge {row['judge']!r} is in neither {sources} nor a card's judges")
            for board in [*row["values"], *row.get("scores", {})]:
                if board not in boards:
                    raise CardError(f"{where}: {board!r} is not a board of this card (boards: {', '.join(boards)})")
            doc["rows"].append(row)
    boards = sorted(doc["benchmarks"].items(), key=lambda kv: kv[1].get("order", DEFAULT_ORDER))  # stable: folder order
    doc["benchmarks"] = dict(boards)
    return doc
