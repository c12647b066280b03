"""The leaderboard's vocabulary, shared by reading, ranking and rendering: its config, one number on the
board (Entry), one fine-tune difference (Delta), and the two errors it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ACCURACY_METRICS = {"acc", "accuracy", "exact_match", "em", "correct", "acc_norm"}
SCORE_METRICS = {"score", "judge_score", "gpt_score", "mean_score"}
NO_JUDGE = "none"
PUBLISHED_PROTOCOL = "published protocol (gpt-3.5-turbo)"
PLAIN_LM_EVAL = "not recorded: plain lm-eval results"


class LeaderboardError(ValueError):
    """Input the leaderboard cannot use; the message names the file and the field."""


class RankingError(ValueError):
    """Asked to rank numbers that are not comparable (different judges or metrics)."""


@dataclass
class LeaderboardConfig:
    """Build leaderboard.md, leaderboard.csv and index.html from eval result folders."""

    results: list[str] = field(default_factory=list)
    """Result folders (searched recursively for results_*.json) or results files; also positional."""
    out: str | None = None
    """Output folder (required)."""
    published: str = "builtin"
    """Published reference rows: `builtin` (from each eval/tasks/<bench>/benchmark.yaml), a YAML path, or `none`."""
    bootstrap: int = 1000
    """Bootstrap resamples for the confidence intervals (0 disables them)."""
    confidence: float = 0.95
    """Confidence level of the intervals."""
    seed: int = 0
    """Seed of the bootstrap resampling (intervals are reproducible)."""
    title: str = "DreamFrame leaderboard"
    """Page title."""
    controls: str | None = None
    """A held-out summary.json (python -m eval.summary): adds its chance and majority rows, and marks its
    blind model, as controls beside the models that read the frames."""


@dataclass
class Entry:
    """One number on the board: a model's metric on a benchmark (or subtask), with its provenance."""

    model: str
    benchmark: str
    task: str
    metric: str
    value: float
    judge: str = NO_JUDGE
    judge_key: str = NO_JUDGE
    frames: str = "per source"
    published: bool = False
    source: str = ""
    url: str | None = None
    base_model: str | None = None
    ci: tuple[float, float] | None = None
    n: int | None = None
    parent: str | None = None
    subtask: str | None = None
    fingerprint: str = ""
    raw_metric: str = ""
    samples: dict[str, dict[Any, float]] | None = field(default=None, repr=False)
    aggregate: str | list[float] = "pooled"
    """pooled / macro mean over the strata, or one weight per stratum (Video-Bench's official score)."""
    errors: dict[str, int] = field(default_factory=dict)
    board: str = ""
    control: str = ""
    """Non-empty for a control row (chance, majority, blind): what it is, shown instead of a rank claim."""
    beside: str = ""
    """Numbers shown beside the value (Video-MME: accuracy over all questions and the unanswered count)."""
    partial: bool = False
    """Measured on a partial download (sub-tasks or videos missing): ranked only with other partial numbers."""

    def __post_init__(self) -> None:
        self.board = self.board or self.task

    @property
    def group_key(self) -> tuple[str, str, str]:
        """Numbers are ranked only within one (board, metric, judge) group; a board is a benchmark
        headline (e.g. `mvbench`, shared with the published rows) or a task of its own."""
        return (self.board, self.metric, self.judge_key)


@dataclass
class Delta:
    """A fine-tune minus its base (or a blind control) on one board, metric and judge."""

    model: str
    base: str
    task: str
    metric: str
    judge_key: str
    value: float
    ci: tuple[float, float] | None
    published: bool
    note: str = ""

