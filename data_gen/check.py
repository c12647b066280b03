"""Check a dataset folder before using it: every movie's frames, video and QA rows, the manifest's counts.

    python -m data_gen.check --dataset runs/data
    python -m data_gen.check --dataset runs/data --num_movies 24    # also: movies m00000..m00023 all there

Prints each problem with the file it is about and exits 1, or prints a one-line summary and exits 0.
Cheap: names, headers and sizes (dreamframe.dataset_check), no image is decoded. Every temporal and action
question is replayed through the recorded sampling rule: a QA whose handed frames cannot answer it is named
(dreamframe.answerable).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from dreamframe.config import parse_config


@dataclass
class CheckConfig:
    """Check a DreamFrame dataset folder."""

    dataset: str | None = None
    """The dataset folder to check (required)."""
    num_movies: int | None = None
    """Movies that must be finished: ids <movie_prefix><i:05d> for i < num_movies (unset: no such check)."""
    movie_prefix: str = "m"
    """Movie id prefix used with --num_movies."""
    num_frames: int | None = None
    """Frames a model is handed per clip: each question's clip is checked to hold what its answer needs (default:
    the dataset's qa.clip_frames; unset there too: every frame of the clip)."""


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(CheckConfig, argv, prog="python -m data_gen.check", description=__doc__)
    if not cfg.dataset:
        print("error: --dataset is required", file=sys.stderr)
        return 2
    from dreamframe.dataset import DatasetFolder
    from dreamframe.dataset_check import check_dataset

    expected = [f"{cfg.movie_prefix}{i:05d}" for i in range(cfg.num_movies or 0)]
    problems = check_dataset(cfg.dataset, expected, cfg.num_frames)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{cfg.dataset}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    counts = DatasetFolder(cfg.dataset).manifest()["counts"]
    print(f"{cfg.dataset}: ok - {counts['movies']} movies, {counts['frames']} frames, {counts['qa']} QA rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
