"""TGIF-QA (FrameQA): open-ended, judged with the Video-ChatGPT prompt; accuracy (yes/(yes+no)) and mean score."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.tasks.open_qa import bench
from eval.tasks.open_qa.loader import BENCHMARKS

NAME = "tgif_qa"
DATA_DIR = "GPT_Zero_Shot_QA/" + BENCHMARKS[NAME].folder
DEFAULT_FRAMES = bench.DEFAULT_FRAMES
TASKS = {NAME: "TGIF-QA (FrameQA) (judged)"}
GROUP = bench.GROUP
template = bench.template


def find_root(data_root: Path) -> Path:
    return bench.find_root(NAME, data_root)


def prepare(root: Path, task: str, num_frames: int, rule: str) -> list[dict[str, Any]]:
    return bench.prepare(NAME, root, num_frames, rule)
