"""Helpers shared by benchmark task folders: errors that name the file, JSON reading, video lookup,
option letters, answer matching.
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dreamframe.path_names import path_problem

LETTERS = string.ascii_uppercase
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".gif")


class BenchmarkDataError(ValueError):
    """An annotation file that does not fit the benchmark's official layout; names the file and item."""


class AnnotationMissing(BenchmarkDataError):
    """An annotation file that is not there (a partial download): a whole-benchmark run skips that
    sub-task and marks its result partial; a run that named the sub-task fails with this message."""


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise AnnotationMissing(f"{path}: annotation file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BenchmarkDataError(f"{path}: not valid JSON: {err}") from None


def pick_root(data_root: str | Path, candidates: Sequence[str], marker: str) -> Path:
    """The benchmark folder: `data_root` itself or one of `candidates` below it, whichever holds `marker`."""
    root = Path(data_root).expanduser()
    for rel in ("", *candidates):
        if (root / rel / marker).exists():
            return root / rel
    tried = ", ".join(str(root / rel / marker) for rel in ("", *candidates))
    raise BenchmarkDataError(f"--data-root {root}: no {marker} found (tried {tried})")


@dataclass(frozen=True)
class VideoLookup:
    """Where a video is, or - when it is missing - where it was expected and what was searched."""

    path: Path
    """The file (or frame folder) found, else the first folder / stem with the layout's usual extension."""
    found: bool
    searched: str
    """e.g. `tumblr_x (any of .mp4 .avi ...) in /data/TGIF_QA/mp4, /data/TGIF_QA/tgif_videos` (missing-video reports)."""


def locate_video(folders: Sequence[Path], stems: Sequence[str], usual_ext: str = ".mp4") -> VideoLookup:
    """First existing `<folder>/<stem><ext>` over all folders, stems and VIDEO_EXTENSIONS (or a frame folder).
    A stem no file system can hold (over 255 bytes, a NUL) is not looked up: its row is skipped and counted
    when the tasks are written (row_checks.py), not the whole benchmark aborted by "File name too long"."""
    for folder in folders:
        for stem in stems:
            for ext in VIDEO_EXTENSIONS:
                path = folder / f"{stem}{ext}"
                if not path_problem(path) and path.is_file():
                    return VideoLookup(path, True, str(path))
            if not path_problem(folder / stem) and (folder / stem).is_dir():
                return VideoLookup(folder / stem, True, str(folder / stem))
    names = " or ".join(stems)
    searched = f"{names} (any of {' '.join(VIDEO_EXTENSIONS)}, or a frame folder) in {', '.join(map(str, folders))}"
    return VideoLookup(folders[0] / f"{stems[0]}{usual_ext}", False, searched)


def normalise_answer(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (SQuAD-style, the lexical judge's tokens)."""
    from eval.judges.lexical import tokens

    return " ".join(tokens(text))


def video_field(path: str | Path, num_frames: int, rule: str, start_s: float | None = None,
                end_s: float | None = None, fps: float | None = None) -> dict[str, Any]:
    """A row's "video" entry: a `dreamframe.clip.Clip` as plain fields (decoded later by the LM, a batch at a time)."""
    from dreamframe.clip import Clip

    return Clip(str(path), num_frames, rule, start_s=start_s, end_s=end_s, fps=fps).as_dict()
