"""TempCompass (llyx97/TempCompass): four answer formats as four lm-eval tasks under one group.

Prompts: the question + the authors' per-format answer prompt (`run_video_llava/inference_dataset.py`).
Scoring: the authors' matching rules first; when no rule matches, the run's LLM judge with the
authors' evaluation prompt; without one (`auto` / `lexical`) the option the reply names, else 0 and
counted unmatched; `--judge exact_match` is their --disable_llm (rules only). Captioning is always judged: the judge answers the multi-choice question
from the model's caption. The group reports the mean over the four formats.
Frames: 8, evenly spaced, first and last included (the Video-LLaVA setting of the authors' scripts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dreamframe.clip import ClipSpec
from eval.tasks.common import pick_root, video_field
from eval.tasks.tempcompass.loader import load_tempcompass

NAME = "tempcompass"
DATA_DIR = "TempCompass"
DEFAULT_FRAMES = ClipSpec(8, "linspace_inclusive")
GROUP = {"aggregate_metric_list": [{"metric": "acc", "aggregation": "mean", "weight_by_size": False}],
         "metadata": {"version": 1.0}}
FORMAT_OF = {"tempcompass_multi_choice": "multi-choice", "tempcompass_yes_no": "yes_no",
             "tempcompass_caption_matching": "caption_matching", "tempcompass_captioning": "captioning"}
TASKS = {t: f"{f} questions" for t, f in FORMAT_OF.items()}
PARSE_RULE = {t: f"eval_{f}.py matching rules, the judge when none matches" for t, f in FORMAT_OF.items()}
PARSE_RULE["tempcompass_captioning"] = "eval_captioning.py: the judge answers the multi-choice question from the caption"
NEEDS_LLM_JUDGE = ("tempcompass_captioning",)
"""Not scored under --judge exact_match (the authors' --disable_llm does not cover captioning)."""


def template(task: str) -> str:
    return "_template.yaml"


def find_root(data_root: Path) -> Path:
    return pick_root(data_root, (DATA_DIR,), "questions")


def prepare(root: Path, task: str, num_frames: int, rule: str) -> list[dict[str, Any]]:
    docs, _ = load_tempcompass(root, FORMAT_OF[task])
    return [{**d, "task": task, "video": video_field(d["video"], num_frames, rule)} for d in docs]
