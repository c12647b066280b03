"""The four open-ended QA benchmarks as eval.tasks.registry.Benchmark objects (named in ./benchmark.yaml).

Each of `msvd_qa`, `msrvtt_qa`, `tgif_qa`, `activitynet_qa` below is one benchmark = one lm-eval task
of the same name, judged with the Video-ChatGPT prompt (accuracy = yes/(yes+no), mean score). Frames: 8, evenly spaced with first and last included (Video-LLaVA's
`run_inference_video_qa` protocol, the layout these folders come from).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dreamframe.clip import ClipSpec
from eval.tasks.common import video_field
from eval.tasks.open_qa.loader import BENCHMARKS, benchmark_dir, load_open_qa

DEFAULT_FRAMES = ClipSpec(8, "linspace_inclusive")
GROUP = None
PARSE_RULE = "judged yes/no + 0-5 with the Video-ChatGPT activitynet_qa prompt"


def template(task: str) -> str:
    return "_template.yaml"


def prepare(name: str, root: Path, num_frames: int, rule: str) -> list[dict[str, Any]]:
    """Rows of one benchmark: test_q/test_a paired by position (mismatched ids are logged)."""
    docs, _ = load_open_qa(root, name)
    return [{**d, "task": name, "video": video_field(d["video"], num_frames, rule)} for d in docs]


class OpenQABenchmark:
    """One benchmark as the registry sees it (the attributes a benchmark module has)."""

    DEFAULT_FRAMES = DEFAULT_FRAMES
    GROUP = GROUP
    PARSE_RULE = PARSE_RULE

    def __init__(self, name: str, title: str):
        self.NAME = name
        self.TASKS = {name: title}
        self.DATA_DIR = "GPT_Zero_Shot_QA/" + BENCHMARKS[name].folder

    def template(self, task: str) -> str:
        return template(task)

    def find_root(self, data_root: Path) -> Path:
        return benchmark_dir(data_root, self.NAME)

    def prepare(self, root: Path, task: str, num_frames: int, rule: str) -> list[dict[str, Any]]:
        return prepare(self.NAME, root, num_frames, rule)


msvd_qa = OpenQABenchmark("msvd_qa", "MSVD-QA (judged)")
msrvtt_qa = OpenQABenchmark("msrvtt_qa", "MSRVTT-QA (judged)")
tgif_qa = OpenQABenchmark("tgif_qa", "TGIF-QA (FrameQA) (judged)")
activitynet_qa = OpenQABenchmark("activitynet_qa", "ActivityNet-QA (judged)")
