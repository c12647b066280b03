"""TempCompass (llyx97/TempCompass): four answer formats as four lm-eval tasks under one group.

Prompts: the question + the authors' per-format answer prompt (`run_video_llava/inference_dataset.py`).
Scoring: the authors' matching rules first; when no rule matches, the run's judge (an LLM with the
authors' evaluation prompt, or the lexical judge; `--judge exact_match` disables the fallback like
their --disable_llm). Captioning is always judged: the judge answers the multi-choice question
from the model's caption. The group reports the mean over the four formats.
Frames: 8, evenly spaced, first and last included (the Video-LLaVA setting of the authors' scripts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.tasks.common import BenchmarkDataError
from eval.tasks.open_qa.files import BenchmarkError, pick_root
from eval.tasks.tempcompass.loader import load_tempcompass

NAME = "tempcompass"
DATA_DIR = "TempCompass"
DEFAULT_FRAMES = {"num_frames": 8, "rule": "linspace_inclusive"}
GROUP = {"aggregate_metric_list": [{"metric": "acc", "aggregation": "mean", "weight_by_size": False}],
         "metadata": {"version": 1.0}}
FORMAT_OF = {"tempcompass_multi_choice": "multi-choice", "tempcompass_yes_no": "yes_no",
             "tempcompass_caption_matching": "caption_matching", "tempcompass_captioning": "captioning"}
TASKS = {t: f"{f} questions" for t, f in FORMAT_OF.items()}


def template(task: str) -> str:
    return "_template.yaml"


def find_root(data_root: Path) -> Path:
    try:
        return pick_root(data_root, (DATA_DIR,), "questions")
    except BenchmarkError as err:
        raise BenchmarkDataError(str(err)) from None


def prepare(root: Path, task: str, num_frames: int, rule: str) -> list[dict[str, Any]]:
    try:
        docs, _ = load_tempcompass(root, FORMAT_OF[task])
    except BenchmarkError as err:
        raise BenchmarkDataError(str(err)) from None
    return [{**d, "task": task, "video": {"path": d["video"], "num_frames": num_frames, "rule": rule,
                                          "start_s": None, "end_s": None, "fps": None, "span": None}} for d in docs]
