"""Tiny benchmark folders written in each benchmark's OFFICIAL on-disk layout, with real (tiny) videos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from lm_eval.api.model import LM

from dreamframe.video import encode_video


class ScriptedLM(LM):
    """An lm-eval model that answers each request with `answer(doc)` and keeps the prompts it was given."""

    MULTIMODAL = True

    def __init__(self, answer):
        super().__init__()
        self.answer = answer
        self.contexts: list[str] = []

    def loglikelihood(self, requests):
        raise NotImplementedError

    def loglikelihood_rolling(self, requests):
        raise NotImplementedError

    def generate_until(self, requests, disable_tqdm: bool = False):
        self.contexts += [req.args[0] for req in requests]
        return [self.answer(req.doc) for req in requests]


def tiny_video(path: Path, n: int = 4, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    frames = [rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in range(n)]
    encode_video(frames, path.with_suffix(".mp4"), fps=2)
    if path.suffix != ".mp4":  # the container is decided by the content; the name is what loaders search
        path.with_suffix(".mp4").rename(path)
    return path


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def open_qa(root: Path) -> Path:
    """GPT_Zero_Shot_QA/{MSVD,MSRVTT,TGIF,Activitynet}_Zero_Shot_QA with 3 questions each."""
    base = root / "GPT_Zero_Shot_QA"
    layouts = {"MSVD_Zero_Shot_QA": ("videos", ".avi", ""), "MSRVTT_Zero_Shot_QA": ("videos/all", ".mp4", ""),
               "TGIF_Zero_Shot_QA": ("mp4", ".mp4", ""), "Activitynet_Zero_Shot_QA": ("all_test", ".mkv", "v_")}
    for folder, (vdir, ext, prefix) in layouts.items():
        d = base / folder
        names = ["vidA", "vidB", "vidA"]
        write_json(d / "test_q.json", [{"video_name": n, "question": f"what is in {n} {i}?", "question_id": f"{folder}_{i}"}
                                       for i, n in enumerate(names)])
        write_json(d / "test_a.json", [{"answer": ["a red car", "yes", "two dogs"][i], "type": [0, 3, 7][i],
                                        "question_id": f"{folder}_{i}"} for i in range(3)])
        tiny_video(d / vdir / f"{prefix}vidA{ext}")
        tiny_video(d / vdir / f"{prefix}vidB.webm" if prefix else d / vdir / f"vidB{ext}", seed=1)
    return base


def vcgbench(root: Path) -> Path:
    base = root / "Video_5_Benchmark"
    qa = base / "Benchmarking_QA"
    write_json(qa / "generic_qa.json", [
        {"Q": "What happens?", "A": "A man rides a bike.", "video_name": "v_abc"},
        {"Q": "Who is there?", "A": "A man in a red shirt.", "video_name": "v_abc"},
        {"Q": "Where is it?", "A": "In a park.", "video_name": "v_xyz"}])
    write_json(qa / "temporal_qa.json", [{"Q": "What first?", "A": "He stands, then rides.", "video_name": "v_abc"}])
    write_json(qa / "consistency_qa.json", [
        {"Q1": "What is he riding?", "Q2": "Which vehicle does he use?", "A": "A bike.", "video_name": "v_abc"},
        {"Q1": "What colour?", "Q2": "Which colour is the shirt?", "A": "Red.", "video_name": "v_abc"}])
    tiny_video(base / "Test_Videos" / "v_abc.mp4")
    tiny_video(base / "Test_Videos" / "v_xyz.mkv", seed=2)
    return base


def tempcompass(root: Path) -> Path:
    base = root / "TempCompass"
    mc = {"1001": {"action": [{"question": "What is the person doing?\nA. cooking\nB. running\nC. sleeping",
                               "answer": "B. running"}],
                   "direction": [{"question": "Which way?\nA. left\nB. right", "answer": "A. left"}]},
          "1001_reverse": {"direction": [{"question": "Which way?\nA. left\nB. right", "answer": "B. right"}]}}
    yn = {"1001": {"action": [{"question": "Is the person running?", "answer": "yes"},
                              {"question": "Is the person cooking?", "answer": "no"}]}}
    cm = {"1001": {"action": [{"question": "Which caption matches the video better?\nCaption A: A person runs.\n"
                                           "Caption B: A person cooks.", "answer": "Caption A: A person runs."}]}}
    cap = {"1001": {"action": [{"question": "Write a caption.\nGenerated Caption:", "answer": "A person runs."}]}}
    for name, data in (("multi-choice", mc), ("yes_no", yn), ("caption_matching", cm), ("captioning", cap)):
        write_json(base / "questions" / f"{name}.json", data)
    write_json(base / "meta_info.json", {"1001": {"eval_dim": {"action": {"type": "coarse-grained action"},
                                                               "direction": {"type": "object motion"}}},
                                         "1001_reverse": {"eval_dim": {"direction": {"type": "object motion"}}}})
    tiny_video(base / "videos" / "1001.mp4")
    tiny_video(base / "videos" / "1001_reverse.mp4", seed=3)
    return base


def videomme(root: Path, missing_one: bool = True) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = root / "Video-MME"
    rows = []
    for i, (vid, dur, answer) in enumerate([("fFjv93ACGo8", "short", "C"), ("fFjv93ACGo8", "short", "A"),
                                            ("lmno", "long", "D")]):
        rows.append({"video_id": f"{i // 2 + 1:03d}", "duration": dur, "domain": "Knowledge",
                     "sub_category": "Humanity & History", "url": f"https://www.youtube.com/watch?v={vid}",
                     "videoID": vid, "question_id": f"{i // 2 + 1:03d}-{i % 2 + 1}", "task_type": "Counting Problem",
                     "question": f"Question {i}?", "options": ["A. one.", "B. two.", "C. three.", "D. four."],
                     "answer": answer})
    (base / "videomme").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), base / "videomme" / "test-00000-of-00001.parquet")
    tiny_video(base / "data" / "fFjv93ACGo8.mp4")
    if not missing_one:
        tiny_video(base / "data" / "lmno.mp4", seed=4)
    (base / "subtitle").mkdir(parents=True, exist_ok=True)
    (base / "subtitle" / "fFjv93ACGo8.srt").write_text(
        "1\n00:00:00,000 --> 00:00:01,000\n<i>Hi guys</i>\n\n2\n00:00:01,000 --> 00:00:02,000\nlet's cook\n",
        encoding="utf-8")
    return base


# Video-Bench datasets -> (video file under Eval_video/<dataset>/, number of choices, answer letter)
VIDEOBENCH = {
    "ActivityNet": ("v_abc.mp4", 4, "B"), "MSVD": ("clip_1_5.avi", 2, "B"), "MSRVTT": ("video7011.mp4", 3, "C"),
    "TGIF": ("tumblr_x.mp4", 5, "D"), "Youcook2": ("yc.mp4", 4, "A"), "Ucfcrime": ("Abuse028_x264.mp4", 4, "C"),
    "MOT": ("MOT16-02.mp4", 6, "F"), "TVQA": ("s02e22_clip.mp4", 5, "E"), "MV": ("mv.mp4", 4, "B"),
    "NBA": ("10.mp4", 3, "A"), "Driving-exam": ("918600.mp4", 4, "D"), "Driving-decision-making": ("10.mp4", 2, "A"),
    "SQA3D": ("scene0535_00.mp4", 4, "C"),
}


def videobench(root: Path, datasets: tuple[str, ...] | None = None, missing_video: str | None = None) -> Path:
    """Video-Bench/Eval_QA/<Dataset>_QA_new.json (with answers, as at commit 487e06b) + Eval_video/<Dataset>/.

    One question per dataset, except MSVD with two; `missing_video`: that dataset's video is not written."""
    base = root / "Video-Bench"
    for i, (name, (video, n, answer)) in enumerate(VIDEOBENCH.items()):
        if datasets is not None and name not in datasets:
            continue
        items = {}
        for k in range(2 if name == "MSVD" else 1):
            choices = {chr(65 + c): f"{name.lower()} option {chr(97 + c)} {k}" for c in range(n)}
            items[f"{name}_{k}"] = {"vid_path": f"Eval_video/{name}/{video}", "video_id": video.rsplit(".", 1)[0],
                                    "question": f"What happens in {name} clip {k}?", "choices": choices,
                                    "answer": answer if k == 0 else "A"}
        write_json(base / "Eval_QA" / f"{name}_QA_new.json", items)
        if name != missing_video:
            tiny_video(base / "Eval_video" / name / video, seed=i)
    return base


def partial_mvbench(root: Path) -> Path:
    """MVBench with 3 of its 20 json files (a partial download) and one of their videos absent."""
    from tests.eval.conftest import write_mvbench

    base = write_mvbench(root, per_task=2, tasks=["action_antonym", "object_shuffle", "fine_grained_pose"])
    (base / "video" / "nturgbd" / "fine_grained_pose_1.mp4").unlink()
    return base


def partial_tempcompass(root: Path) -> Path:
    """TempCompass without questions/yes_no.json and without the `_reverse` video."""
    base = tempcompass(root)
    (base / "questions" / "yes_no.json").unlink()
    (base / "videos" / "1001_reverse.mp4").unlink()
    return base
