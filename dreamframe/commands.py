"""The command table: every entry point one launcher starts, with the options it sets, typed.

The pipeline (launch.pipeline), Slurm submission (launch.submit) and training's own data step
(training.train's ensure_data) start other rooms' commands. Each command is one dataclass below: its class
names the entry point (`python -m <module>`) and the config dataclass that entry point parses, and its
fields are that command's options, so a launcher writes `Train(config=..., out=..., max_steps=0)` and
`argv()` renders the command line. A test parses every command's argv with its entry point's own parser,
so a renamed option fails there, not hours into a run.

Why the table lives in the core: its users are the launch room and the training room, and training may
import only `dreamframe` and `models`, never launch. It names the rooms by module path (strings); a room's config class
is imported only when asked for (`config_class()`), never when this module is, so the core still imports
no room (ARCHITECTURE.md).

Adding a command: one dataclass here (module, config class, the options launchers set) and a line in
COMMANDS; the parser test picks it up.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(kw_only=True)
class Command:
    """One entry point with the options a launcher sets. Rendering: `--config` first, then `extra`
    (the user's own overrides), then every other field that is not None, so the options the launcher
    wires (output folders, the base model's 0 steps) win over the user's."""

    module: ClassVar[str]
    """`python -m <module>`."""
    config_path: ClassVar[str]
    """`package.module:Class`, the config dataclass the entry point parses."""

    config: str | None = None
    """The command's YAML (--config)."""
    extra: list[str] = field(default_factory=list)
    """More options, verbatim, e.g. ["--max_steps", "3"] from a pipeline YAML."""

    def argv(self) -> list[str]:
        """The command's options. str values (also str subclasses, e.g. a job script's shell variable)
        are kept as they are; bools become true/false, lists and dicts JSON."""
        out = ["--config", self.config] if self.config is not None else []
        out += self.extra
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("config", "extra") or value is None:
                continue
            if not isinstance(value, str):
                value = json.dumps(value) if isinstance(value, (bool, list, tuple, dict)) else str(value)
            out += [f"--{f.name}", value]
        return out

    def cmd(self, python: str | None = None) -> list[str]:
        """The whole command line, run with `python` (default: this interpreter)."""
        return [python or sys.executable, "-m", self.module, *self.argv()]

    @classmethod
    def config_class(cls) -> type:
        """The entry point's config dataclass (imports its room now, not before)."""
        module, _, name = cls.config_path.partition(":")
        return getattr(importlib.import_module(module), name)

    def parse(self) -> Any:
        """What the entry point's own parser makes of `argv()` (exits with a message naming a bad option)."""
        from dreamframe.config import parse_config

        return parse_config(self.config_class(), self.argv(), prog=f"python -m {self.module}", description="")


@dataclass(kw_only=True)
class Generate(Command):
    """Write (or resume) a dataset folder."""

    module = "data_gen.generate"
    config_path = "data_gen.config:GenerateConfig"
    out: str | None = None
    num_movies: int | None = None
    workers: int | str | None = None
    """A count, or in a job script the shell variable holding it."""
    shard_index: int | str | None = None
    """This shard (0-based), or in a job script the shell variable holding it."""
    num_shards: int | None = None


@dataclass(kw_only=True)
class Report(Command):
    """The HTML report of a dataset folder."""

    module = "data_gen.report"
    config_path = "data_gen.report:ReportConfig"
    dataset: str | None = None
    out: str | None = None


@dataclass(kw_only=True)
class Train(Command):
    """Fine-tune (or, with max_steps 0, export the untrained model)."""

    module = "training.train"
    config_path = "training.config:TrainConfig"
    out: str | None = None
    max_steps: int | None = None
    num_nodes: int | None = None
    """Set by launch.submit (with devices and accelerator) to match the Slurm allocation."""
    devices: int | None = None
    accelerator: str | None = None


@dataclass(kw_only=True)
class Evaluate(Command):
    """Score one model on benchmarks."""

    module = "eval.run"
    config_path = "eval.run:EvalConfig"
    model: str | None = None
    name: str | None = None
    base_model: str | None = None
    tasks: str | None = None
    """Comma-separated tasks, or in a job script the shell variable holding them."""
    data_dirs: dict[str, str] | None = None
    out: str | None = None


@dataclass(kw_only=True)
class Summarise(Command):
    """Held-out accuracy of several models beside chance and the majority answer."""

    module = "eval.summary"
    config_path = "eval.summary:SummaryConfig"
    eval: str | None = None
    data: str | None = None
    models: dict[str, str] | None = None
    shift_data: str | None = None
    out: str | None = None


@dataclass(kw_only=True)
class Leaderboard(Command):
    """The leaderboard pages of result folders."""

    module = "eval.leaderboard"
    config_path = "eval.leaderboard:LeaderboardConfig"
    results: list[str] | None = None
    out: str | None = None
    controls: str | None = None


COMMANDS: dict[str, type[Command]] = {"generate": Generate, "report": Report, "train": Train, "eval": Evaluate,
                                      "summary": Summarise, "leaderboard": Leaderboard}
"""Every command a launcher starts, by verb (launch.submit's job kinds are train, generate and eval)."""
