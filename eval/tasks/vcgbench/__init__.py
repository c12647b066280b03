"""Video-ChatGPT's generative benchmark (VCGBench): five judged 0-5 dimensions as three lm-eval tasks.

- vcgbench_generic: generic_qa.json -> correctness, detail, context (three judge prompts, one answer);
- vcgbench_temporal: temporal_qa.json -> temporal;
- vcgbench_consistency: consistency_qa.json -> consistency (Q1 and Q2 answered separately, judged together).
Frames: 8, evenly spaced, first and last included (Video-LLaVA's protocol for this benchmark).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.tasks.common import BenchmarkDataError
from eval.tasks.open_qa.files import BenchmarkError, pick_root
from eval.tasks.vcgbench.loader import load_vcgbench

NAME = "vcgbench"
DATA_DIR = "Video_5_Benchmark"
DEFAULT_FRAMES = {"num_frames": 8, "rule": "linspace_inclusive"}
GROUP = None  # five different scores: never averaged together
TASKS = {"vcgbench_generic": "correctness, detail orientation, contextual understanding (judged 0-5)",
         "vcgbench_temporal": "temporal understanding (judged 0-5)",
         "vcgbench_consistency": "consistency over two rephrased questions (judged 0-5)"}


def template(task: str) -> str:
    return f"_{task.removeprefix('vcgbench_')}.yaml"


def find_root(data_root: Path) -> Path:
    try:
        return pick_root(data_root, (DATA_DIR,), "Benchmarking_QA")
    except BenchmarkError as err:
        raise BenchmarkDataError(str(err)) from None


def prepare(root: Path, task: str, num_frames: int, rule: str) -> list[dict[str, Any]]:
    try:
        docs, _ = load_vcgbench(root, task.removeprefix("vcgbench_"))
    except BenchmarkError as err:
        raise BenchmarkDataError(str(err)) from None
    return [{**d, "task": task, "video": {"path": d["video"] or str(root / "Test_Videos" / d["video_name"]),
                                          "num_frames": num_frames, "rule": rule, "start_s": None, "end_s": None,
                                          "fps": None, "span": None}} for d in docs]
