"""MVBench (OpenGVLab/Ask-Anything `video_chat2/MVBENCH.md`): 20 multiple-choice tasks, 200 questions each.

Official layout (the HF `OpenGVLab/MVBench` download):
    MVBench/json/<task>.json      list of {"video", "question", "candidates", "answer"[, "start", "end"]}
    MVBench/video/<prefix>/<video>   prefixes below; episodic reasoning is a folder of 3-fps frames
Protocol (mvbench.ipynb): 16 frames at segment centres within the [start, end] bound (rule
`videochat2`, the notebook's own index arithmetic); the system
instruction and question go in the user turn, the answer is primed with "Best option:(", and the
option letter is scored with the notebook's `check_ans`. The average is pooled over all questions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dreamframe.clip import ClipSpec
from eval.tasks.common import LETTERS, BenchmarkDataError, read_json, video_field

NAME = "mvbench"
DATA_DIR = "MVBench"
# "videochat2" = the notebook's get_index (segment centres, its rounding and bounds); `segment_centre`
# is the shared sampler's version, one frame off now and then
DEFAULT_FRAMES = ClipSpec(16, "videochat2")
# pooled accuracy (the notebook's final 'Avg' = correct / total), equal to the task mean at 200 per task
GROUP = {"aggregate_metric_list": [{"metric": "acc", "aggregation": "mean", "weight_by_size": True}],
         "metadata": {"version": 1.0}}

# task -> (json file, folder under video/, data type, bounded) - mvbench.ipynb `data_list`
_SPEC: dict[str, tuple[str, str, str, bool]] = {
    "action_sequence": ("action_sequence.json", "star/Charades_v1_480", "video", True),
    "action_prediction": ("action_prediction.json", "star/Charades_v1_480", "video", True),
    "action_antonym": ("action_antonym.json", "ssv2_video", "video", False),
    "fine_grained_action": ("fine_grained_action.json", "Moments_in_Time_Raw/videos", "video", False),
    "unexpected_action": ("unexpected_action.json", "FunQA_test/test", "video", False),
    "object_existence": ("object_existence.json", "clevrer/video_validation", "video", False),
    "object_interaction": ("object_interaction.json", "star/Charades_v1_480", "video", True),
    "object_shuffle": ("object_shuffle.json", "perception/videos", "video", False),
    "moving_direction": ("moving_direction.json", "clevrer/video_validation", "video", False),
    "action_localization": ("action_localization.json", "sta/sta_video", "video", True),
    "scene_transition": ("scene_transition.json", "scene_qa/video", "video", False),
    "action_count": ("action_count.json", "perception/videos", "video", False),
    "moving_count": ("moving_count.json", "clevrer/video_validation", "video", False),
    "moving_attribute": ("moving_attribute.json", "clevrer/video_validation", "video", False),
    "state_change": ("state_change.json", "perception/videos", "video", False),
    "fine_grained_pose": ("fine_grained_pose.json", "nturgbd", "video", False),
    "character_order": ("character_order.json", "perception/videos", "video", False),
    "egocentric_navigation": ("egocentric_navigation.json", "vlnqa", "video", False),
    "episodic_reasoning": ("episodic_reasoning.json", "tvqa/frames_fps3_hq", "frame", True),
    "counterfactual_inference": ("counterfactual_inference.json", "clevrer/video_validation", "video", False),
}
TASKS: dict[str, str] = {f"mvbench_{k}": k.replace("_", " ") for k in _SPEC}
FRAME_FOLDER_FPS = 3.0
PARSE_RULE = "mvbench.ipynb check_ans on \"(\" + the first line of the reply"


def template(task: str) -> str:
    return "_template.yaml"


def find_root(data_root: Path) -> Path:
    """`data_root` itself when it holds json/, else data_root/MVBench."""
    for cand in (data_root, data_root / DATA_DIR):
        if (cand / "json").is_dir():
            return cand
    raise BenchmarkDataError(f"{data_root}: no MVBench layout found (expected json/ in it or in {DATA_DIR}/)")


def prepare(root: Path, task: str, num_frames: int, rule: str) -> list[dict[str, Any]]:
    """Rows of one task: the official fields plus the answer letter and where/how to read the video."""
    json_name, prefix, data_type, bounded = _SPEC[task.removeprefix("mvbench_")]
    path = root / "json" / json_name
    items = read_json(path)
    if not isinstance(items, list):
        raise BenchmarkDataError(f"{path}: expected a list of questions, got {type(items).__name__}")
    rows = []
    for i, item in enumerate(items):
        try:
            question, candidates, answer, video = item["question"], list(item["candidates"]), item["answer"], item["video"]
        except (KeyError, TypeError) as err:
            raise BenchmarkDataError(f"{path}: item {i} lacks field {err}") from None
        if answer not in candidates:
            raise BenchmarkDataError(f"{path}: item {i}: answer {answer!r} is not one of candidates {candidates}")
        bound = (float(item["start"]), float(item["end"])) if bounded and "start" in item and "end" in item else (None, None)
        ref = video_field(root / "video" / prefix / video, num_frames, rule, *bound,
                          fps=FRAME_FOLDER_FPS if data_type == "frame" else None)
        rows.append({"id": f"{task}_{i}", "task_type": TASKS[task], "question": question,
                     "candidates": [str(c) for c in candidates], "answer": str(answer),
                     "answer_letter": LETTERS[candidates.index(answer)], "video": ref})
    return rows
