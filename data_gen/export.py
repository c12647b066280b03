"""Export a dataset folder's QA to the conversation JSON that LLaVA-NeXT and LLaMA-Factory read.

    python -m data_gen.export --in runs/data --format llava --out runs/data/llava_train.json
    python -m data_gen.export --in runs/data --format sharegpt --split test --out test.json

`llava` (LLaVA-NeXT / LLaVA-OneVision training JSON): {"id", "video", "frames", "conversations":
[{"from": "human", "value": "<video>\\nQ"}, {"from": "gpt", "value": "A"}]}, where "video" is the
movie's mp4 when it was written (else its frame folder) and "frames" the sampled frame paths of the
QA pair's span. `sharegpt` (LLaMA-Factory): {"messages": [{"role", "content"}], "videos": [[frame
paths]]}, a video given as its list of frames. Paths are relative to the output file's folder unless
--absolute-paths. Closed questions list their options in the prompt.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dreamframe.atomic import atomic_write_text
from dreamframe.config import parse_config
from dreamframe.dataset import DatasetError, DatasetFolder, frame_name
from dreamframe.frames import SamplingRule, sample_indices
from dreamframe.prompts import question_text
from dreamframe.schema import Movie, SchemaError


@dataclass
class ExportConfig:
    """Export QA pairs with their frames as conversation JSON."""

    input: str | None = None
    """Dataset folder to read (`--in`)."""
    out: str | None = None
    """Output JSON file."""
    format: Literal["llava", "sharegpt"] = "llava"
    """`llava` for LLaVA-NeXT / LLaVA-OneVision, `sharegpt` for LLaMA-Factory."""
    split: Literal["train", "test", "all"] = "train"
    """Which movies to export."""
    num_frames: int = 8
    """Frames sampled per QA pair from its span."""
    frame_sampling: SamplingRule | None = None
    """Sampling rule; default: the one recorded in the dataset's manifest."""
    absolute_paths: bool = False
    """Write absolute paths instead of paths relative to the output file."""


def _records(folder: DatasetFolder, movie: Movie, cfg: ExportConfig, rule: SamplingRule, base: Path) -> list[dict]:
    def rel(p: Path) -> str:
        return str(p.resolve()) if cfg.absolute_paths else os.path.relpath(p.resolve(), base)

    video = folder.video_path(movie.id)
    video = video if video.exists() else folder.frames_dir(movie.id)
    out = []
    for qa in movie.qa:
        idx = sample_indices(movie.num_frames, cfg.num_frames, rule, qa.frame_start, qa.frame_end)
        frames = [rel(folder.frames_dir(movie.id) / frame_name(i)) for i in idx]
        if cfg.format == "llava":
            out.append({
                "id": qa.id, "video": rel(video), "frames": frames,
                "frame_span": [qa.frame_start, qa.frame_end],
                "conversations": [{"from": "human", "value": "<video>\n" + question_text(qa.question, qa.options)},
                                  {"from": "gpt", "value": qa.answer}],
            })
        else:
            out.append({
                "id": qa.id, "videos": [frames],
                "messages": [{"role": "user", "content": "<video>" + question_text(qa.question, qa.options)},
                             {"role": "assistant", "content": qa.answer}],
            })
    return out


def export(cfg: ExportConfig) -> int:
    if not cfg.input or not cfg.out:
        raise DatasetError("both --in (dataset folder) and --out (JSON file) are required")
    folder = DatasetFolder(cfg.input)
    rule = cfg.frame_sampling or folder.manifest().get("frame_sampling", "segment_centre")
    base = Path(cfg.out).resolve().parent
    records: list[dict[str, Any]] = []
    for movie in folder.movies(None if cfg.split == "all" else cfg.split):
        records += _records(folder, movie, cfg, rule, base)
    atomic_write_text(cfg.out, json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    return len(records)


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(ExportConfig, argv, prog="python -m data_gen.export", description=__doc__,
                       aliases={"in": "input"})
    try:
        n = export(cfg)
    except (DatasetError, SchemaError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {n} conversations to {cfg.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
