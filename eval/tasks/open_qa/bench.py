"""The registry face (eval/tasks/README.md) shared by the four open-ended QA benchmarks.

Each of msvd_qa.py, msrvtt_qa.py, tgif_qa.py, activitynet_qa.py is one benchmark = one lm-eval task
of the same name. Frames: 8, evenly spaced with first and last included (Video-LLaVA's
`run_inference_video_qa` protocol, the layout these folders come from).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.tasks.common import BenchmarkDataError
from eval.tasks.open_qa.files import BenchmarkError
from eval.tasks.open_qa.loader import benchmark_dir, load_open_qa

DEFAULT_FRAMES = {"num_frames": 8, "rule": "linspace_inclusive"}
GROUP = None


def template(task: str) -> str:
    return "_template.yaml"


def find_root(name: str, data_root: Path) -> Path:
    try:
        return benchmark_dir(data_root, name)
    except BenchmarkError as err:
        raise BenchmarkDataError(str(err)) from None


def prepare(name: str, root: Path, num_frames: int, rule: str) -> list[dict[str, Any]]:
    """Rows of one benchmark: test_q/test_a paired by position (mismatched ids are logged)."""
    try:
        docs, _ = load_open_qa(root, name)
    except BenchmarkError as err:
        raise BenchmarkDataError(str(err)) from None
    folder = root / name  # never exists: names the expected location in the missing-video count
    return [{**d, "task": name, "video": {"path": d["video"] or str(folder / d["video_name"]),
                                          "num_frames": num_frames, "rule": rule, "start_s": None, "end_s": None,
                                          "fps": None, "span": None}} for d in docs]
