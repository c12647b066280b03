"""Video-ChatGPT's generative benchmark (VCGBench): five judged 0-5 dimensions as three lm-eval tasks.

- vcgbench_generic: generic_qa.json -> correctness, detail, context (three judge prompts, one answer);
- vcgbench_temporal: temporal_qa.json -> temporal;
- vcgbench_consistency: consistency_qa.json -> consistency (Q1 and Q2 answered separately, judged together).
Frames: 8, evenly spaced, first and last included (Video-LLaVA's protocol for this benchmark).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dreamframe.clip import ClipSpec
from eval.tasks.common import pick_root, video_field
from eval.tasks.vcgbench.loader import load_vcgbench

NAME = "vcgbench"
DATA_DIR = "Video_5_Benchmark"
DEFAULT_FRAMES = ClipSpec(8, "linspace_inclusive")
GROUP = None  # five different scores: never averaged together
TASKS = {"vcgbench_generic": "correctness, detail orientation, contextual understanding (judged 0-5)",
         "vcgbench_temporal": "temporal understanding (judged 0-5)",
         "vcgbench_consistency": "consistency over two rephrased questions (judged 0-5)"}
PARSE_RULE = "judged 0-5 with the Video-ChatGPT prompts"


def template(task: str) -> str:
    return f"_{task.removeprefix('vcgbench_')}.yaml"


def find_root(data_root: Path) -> Path:
    return pick_root(data_root, (DATA_DIR,), "Benchmarking_QA")


def prepare(root: Path, task: str, num_frames: int, rule: str) -> list[dict[str, Any]]:
    docs, _ = load_vcgbench(root, task.removeprefix("vcgbench_"))
    return [{**d, "task": task, "video": video_field(d["video"], num_frames, rule)} for d in docs]
