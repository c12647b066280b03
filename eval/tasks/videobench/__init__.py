"""Video-Bench (PKU-YuanGroup/Video-Bench): 13 multiple-choice datasets in three ability levels.

Official layout (the Hugging Face LanguageBind/Video-Bench download + the repo's Eval_QA/):
    Video-Bench/Eval_QA/<Dataset>_QA_new.json   {qid: {"vid_path", "video_id", "question", "choices": {"A": ...}, "answer"}}
    Video-Bench/Eval_video/<Dataset>/<file>     (`vid_path` is relative to the Video-Bench folder)
The repo's Eval_QA files carry "answer" up to commit 487e06b (2023-11-30); since 42d542c the answers are
withheld for the leaderboard (MOT_QA.json keeps them) - a file without answers is refused, naming it.

Protocol (README "Step1" + Step2_chatgpt_judge.py + the removed Step3_compute_scores.py, 42d542c):
the question with the options appended in the README's words; the reply is mapped to an option letter
by the judge (gpt-3.5-turbo-0613 with the official prompt; offline: the authors' rules then token
overlap, see scoring.py); accuracy per dataset; a level is the weighted mean of its datasets
(MOT and Driving-exam weigh 0.5); the final score is the mean of the three levels.
Frames: the README leaves them to the model; 8, evenly spaced (Video-LLaVA's setting), recorded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dreamframe.clip import ClipSpec
from eval.tasks.common import LETTERS, BenchmarkDataError, pick_root, read_json, video_field

NAME = "videobench"
DATA_DIR = "Video-Bench"
DEFAULT_FRAMES = ClipSpec(8, "linspace_inclusive")
# Step3_compute_scores.py dataset_weight: level -> {dataset: weight}
LEVELS: dict[str, dict[str, float]] = {
    "videobench_video_exclusive": {"ActivityNet": 1, "MSVD": 1, "MSRVTT": 1, "TGIF": 1, "Youcook2": 1,
                                   "Ucfcrime": 1, "MOT": 0.5},
    "videobench_prior_knowledge": {"TVQA": 1, "MV": 1, "NBA": 1},
    "videobench_decision_making": {"Driving-exam": 0.5, "Driving-decision-making": 1, "SQA3D": 1},
}
DATASETS = [d for level in LEVELS.values() for d in level]
TASK_OF = {d: f"{NAME}_{re.sub(r'[^a-z0-9]+', '_', d.lower())}" for d in DATASETS}
DATASET_OF = {t: d for d, t in TASK_OF.items()}
TASKS = {TASK_OF[d]: f"{d} (multiple choice, judge-mapped)" for d in DATASETS}
# the lm-eval group's own mean is replaced by the official weighting (`group_weights`, applied by eval.run)
GROUP = {"aggregate_metric_list": [{"metric": "acc", "aggregation": "mean", "weight_by_size": False}],
         "metadata": {"version": 1.0}}
PARSE_RULE = "Step2_chatgpt_judge.py: the judge maps the reply to an option letter"
_COUNT = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def template(task: str) -> str:
    return "_template.yaml"


def find_root(data_root: Path) -> Path:
    return pick_root(data_root, (DATA_DIR,), "Eval_QA")


def build_prompt(question: str, choices: dict[str, str]) -> str:
    """The README's Step1 wording for 2-6 options, spaces included; other counts send the question alone."""
    n = len(choices)
    if n not in _COUNT:
        return question
    letters = LETTERS[:n]
    listed = " ".join(f"{letter}.{choices[letter]}" for letter in letters)
    head, tail = ("Choices: " if n == 6 else " "), ("" if n in (4, 6) else " ")
    return (f"{question}{head}{listed} \n Among the {_COUNT[n]} options {', '.join(letters)} above, "
            f"the one closest to the correct answer is:{tail}")


def prepare(root: Path, task: str, num_frames: int, rule: str) -> list[dict[str, Any]]:
    """Rows of one dataset: the official fields, the README prompt and where the video is."""
    path = root / "Eval_QA" / f"{DATASET_OF[task]}_QA_new.json"
    data = read_json(path)
    if not isinstance(data, dict):
        raise BenchmarkDataError(f"{path}: expected {{qid: {{...}}}}, got {type(data).__name__}")
    rows = []
    for qid, item in data.items():
        missing = [k for k in ("vid_path", "question", "choices") if not isinstance(item, dict) or k not in item]
        if missing:
            raise BenchmarkDataError(f"{path}: item {qid!r} lacks field(s) {missing}")
        choices = {str(k): str(v) for k, v in item["choices"].items()}
        if list(choices) != list(LETTERS[:len(choices)]):
            raise BenchmarkDataError(f"{path}: item {qid!r}: choices keyed {list(choices)}, expected A, B, ...")
        if "answer" not in item:
            raise BenchmarkDataError(
                f"{path}: item {qid!r} has no 'answer': the Eval_QA files of PKU-YuanGroup/Video-Bench since commit "
                "42d542c withhold answers for the online leaderboard; use the files of commit 487e06b, which carry them")
        if item["answer"] not in choices:
            raise BenchmarkDataError(f"{path}: item {qid!r}: answer {item['answer']!r} is not one of {list(choices)}")
        rows.append({"benchmark": NAME, "task": task, "dataset": DATASET_OF[task], "qid": str(qid),
                     "video_id": str(item.get("video_id", "")), "question": str(item["question"]),
                     "choices": choices, "answer": str(item["answer"]),
                     "prompt": build_prompt(str(item["question"]), choices),
                     "video": video_field(root / str(item["vid_path"]), num_frames, rule)})
    return rows


def group_weights(present: list[str]) -> dict[str, dict[str, float]]:
    """Official weighting over the datasets present: each level's weighted mean, the final score = the mean
    of the levels (a level with no dataset present is left out; the run is then marked partial)."""
    levels = {level: {TASK_OF[d]: w for d, w in members.items() if TASK_OF[d] in present}
              for level, members in LEVELS.items()}
    levels = {level: w for level, w in levels.items() if w}
    final = {t: w / sum(ws.values()) / len(levels) for ws in levels.values() for t, w in ws.items()}
    return {**levels, NAME: final}
