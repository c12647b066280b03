"""MVBench rows, prompt and scoring against the official notebook, and bounded frame sampling."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from dreamframe.video import encode_video
from eval.tasks import materialise, mvbench
from eval.tasks.common import BenchmarkDataError
from eval.tasks.mvbench import utils
from dreamframe.clip import Clip, ClipSpec


def test_rows_prompt_and_target(mvbench_root):
    rows = mvbench.prepare(mvbench.find_root(mvbench_root.parent), "mvbench_action_sequence", 16, "segment_centre")
    row = rows[0]
    assert row["answer_letter"] == "A" and row["video"]["start_s"] == 0.5 and row["video"]["end_s"] == 2.5
    assert row["video"]["path"].endswith("video/star/Charades_v1_480/action_sequence_0.mp4")
    text = utils.doc_to_text(row)
    assert text == (
        "Carefully watch the video and pay attention to the cause and sequence of events, the detail and movement "
        "of objects, and the action and pose of persons. Based on your observations, select the best option that "
        "accurately addresses the question.\nQuestion: What happens in action_sequence clip 0?\nOptions:\n"
        "(A) a cat runs\n(B) a dog sits\n(C) nothing\nOnly give the best option.")
    assert utils.doc_to_target(row) == "(A) a cat runs"
    ep = mvbench.prepare(mvbench_root, "mvbench_episodic_reasoning", 16, "segment_centre")[0]["video"]
    assert ep["fps"] == 3.0 and ep["path"].endswith("tvqa/frames_fps3_hq/episodic_reasoning_0")
    frames = Clip.from_dict(ep).load()
    assert len(frames) == 16


@pytest.mark.parametrize("answer, ok", [
    ("A) a cat runs", True), ("A", True), ("A.", True), ("B) a dog sits", False), ("", False), ("  \nA) x", True),
    ("(A) a cat runs", True), ("the answer is A", False),
])
def test_check_ans(answer, ok):
    doc = {"candidates": ["a cat runs", "a dog sits"], "answer": "a cat runs", "answer_letter": "A"}
    assert utils.process_results(doc, [answer])["acc"] == 100.0 * ok  # percent


def test_bound_limits_frames(tmp_path):
    """Frame i of the clip has brightness 10*i; a 1.0-2.0 s bound at 10 fps only yields frames 10..20."""
    frames = [Image.fromarray(np.full((32, 32, 3), 10 * i, dtype=np.uint8)) for i in range(25)]
    path = tmp_path / "clip.mp4"
    encode_video(frames, path, fps=10, crf=0)
    got = Clip(str(path), num_frames=4, start_s=1.0, end_s=2.0).load()
    levels = [float(np.asarray(f).mean()) / 10 for f in got]
    assert all(9.5 <= lv <= 20.5 for lv in levels), levels
    assert levels == sorted(levels) and levels[-1] - levels[0] > 5


def _official_get_index(bound, fps, max_frame, first_idx, n):
    """mvbench.ipynb MVBench_dataset.get_index, restated for the comparison."""
    start, end = bound if bound else (-100000, 100000)
    start_idx = max(first_idx, round(start * fps))
    end_idx = min(round(end * fps), max_frame)
    seg = float(end_idx - start_idx) / n
    return [int(start_idx + seg / 2 + np.round(seg * i)) for i in range(n)]


@pytest.mark.parametrize("bound", [None, (0.3, 1.75), (1.25, 2.0)])
def test_videochat2_rule_matches_notebook(tmp_path, bound):
    """Frame i has brightness 10*i (video, 10 fps) or is file i+1 of a 3-fps folder; same picks as the notebook."""
    frames = [Image.fromarray(np.full((32, 32, 3), 10 * i, dtype=np.uint8)) for i in range(25)]
    path = tmp_path / "clip.mp4"
    encode_video(frames, path, fps=10, crf=0)
    start_s, end_s = bound or (None, None)
    got = Clip(str(path), num_frames=8, rule="videochat2", start_s=start_s, end_s=end_s).load()
    assert [round(float(np.asarray(f).mean()) / 10) for f in got] == _official_get_index(bound, 10.0, 24, 0, 8)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, img in enumerate(frames, start=1):
        img.save(folder / f"{i:05d}.png")
    got = Clip(str(folder), num_frames=8, rule="videochat2", start_s=start_s, end_s=end_s, fps=3.0).load()
    assert [round(float(np.asarray(f).mean()) / 10) + 1 for f in got] == _official_get_index(bound, 3.0, 25, 1, 8)


def test_bad_annotations_are_named(tmp_path):
    root = tmp_path / "MVBench" / "json"
    root.mkdir(parents=True)
    with pytest.raises(BenchmarkDataError, match="action_sequence.json: annotation file not found"):
        mvbench.prepare(root.parent, "mvbench_action_sequence", 16, "segment_centre")
    (root / "action_sequence.json").write_text(json.dumps([{"video": "v.mp4", "question": "q",
                                                             "candidates": ["x", "y"], "answer": "z"}]))
    with pytest.raises(BenchmarkDataError, match=r"action_sequence.json: item 0: answer 'z' is not one of"):
        mvbench.prepare(root.parent, "mvbench_action_sequence", 16, "segment_centre")
    with pytest.raises(BenchmarkDataError, match="no MVBench layout"):
        mvbench.find_root(tmp_path / "elsewhere")


def test_single_task_and_frame_override(tmp_path, mvbench_root):
    mat = materialise(["mvbench_object_shuffle"], mvbench_root, tmp_path / "t", num_frames=4, rule="linspace_inclusive")
    assert mat.task_names == ["mvbench_object_shuffle"]
    assert mat.frame_sampling == {"mvbench_object_shuffle": ClipSpec(4, "linspace_inclusive")}
    row = json.loads((tmp_path / "t" / "data" / "mvbench_object_shuffle.jsonl").read_text().splitlines()[0])
    assert row["video"]["num_frames"] == 4 and row["video"]["rule"] == "linspace_inclusive"
