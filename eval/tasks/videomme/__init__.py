"""Video-MME (BradyFU/Video-MME) without subtitles: one lm-eval task per duration under one group.

`acc` is the official figure (parse_answer's eval_your_results.py): accuracy over the questions whose
reply has an extractable letter; `acc_all` divides by all questions and `unanswered` counts the rest.
The group pools all questions (the official "entire dataset" figure): its `acc` is the pooled
answered-only accuracy (eval/group_scores.py `pool_answered_only`, applied by eval.run; plain lm-eval
leaves its size-weighted mean of the durations' figures), `acc_all`
lm-eval's size-weighted mean, `unanswered` the sum;
per-sample JSONL rows keep domain, sub-category and task type for finer breakdowns
(`eval.tasks.videomme.scoring.score_videomme`). `videomme_w_subs` (with_subtitles.py) is the
subtitled setting. Frames: 16 at segment centres (the README leaves the count to the model; recorded).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dreamframe.clip import ClipSpec
from eval.tasks.common import BenchmarkDataError, video_field
from eval.tasks.videomme.loader import load_videomme, parquet_files

NAME = "videomme"
DATA_DIR = "Video-MME"
DEFAULT_FRAMES = ClipSpec(16, "segment_centre")
DURATIONS = ("short", "medium", "long")
GROUP = {"aggregate_metric_list": [{"metric": "acc", "aggregation": "mean", "weight_by_size": True},
                                   {"metric": "acc_all", "aggregation": "mean", "weight_by_size": True}],
         "metadata": {"version": 1.0}}
TASKS = {f"{NAME}_{d}": f"{d} videos, no subtitles" for d in DURATIONS}
SUBTITLES = False
PARSE_RULE = "thanku-all/parse_answer@afd52cf extract_characters_regex"


def template(task: str) -> str:
    return "_template.yaml"


def find_root(data_root: Path) -> Path:
    for cand in (data_root / DATA_DIR, data_root):
        try:
            parquet_files(cand)
            return cand
        except BenchmarkDataError:
            continue
    raise BenchmarkDataError(f"--data-root {data_root}: no videomme/test-*.parquet in it or in {DATA_DIR}/")


def rows(root: Path, task: str, num_frames: int, rule: str, subtitles: bool) -> list[dict[str, Any]]:
    duration = task.rsplit("_", 1)[-1]
    docs, _ = load_videomme(root, with_subtitles=subtitles)
    return [{**d, "task": task, "video": video_field(d["video"], num_frames, rule)}
            for d in docs if d["duration"] == duration]


def prepare(root: Path, task: str, num_frames: int, rule: str) -> list[dict[str, Any]]:
    return rows(root, task, num_frames, rule, SUBTITLES)
