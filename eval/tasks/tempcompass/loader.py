"""TempCompass (llyx97/TempCompass) in its official layout:

    questions/{multi-choice,yes_no,caption_matching,captioning}.json
        nested dicts {video_id: {dimension: [{"question", "answer"}, ...]}}
    meta_info.json        {video_id: {"eval_dim": {dimension: {"type": fine-grained aspect}}, ...}}
    videos/<video_id>.mp4 (with `_reverse` and concatenated variants as separate ids)

The answer prompts are those of the authors' `run_video_llava/inference_dataset.py`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from eval.tasks.common import BenchmarkDataError, locate_video, pick_root, read_json

log = logging.getLogger(__name__)

FORMATS = ("multi-choice", "yes_no", "caption_matching", "captioning")
ANSWER_PROMPT = {
    "multi-choice": "\nPlease directly give the best option:",
    "yes_no": "\nPlease answer yes or no:",
    "caption_matching": "\nPlease directly give the best option:",
    "captioning": "",  # "Generated Caption:" is already part of the question
}


def _nested(path: Path) -> dict[str, dict[str, list[dict]]]:
    data = read_json(path)
    if not isinstance(data, dict):
        raise BenchmarkDataError(f"{path}: expected {{video_id: {{dimension: [...]}}}}, got {type(data).__name__}")
    for vid, dims in data.items():
        if not isinstance(dims, dict):
            raise BenchmarkDataError(f"{path}: video {vid!r}: expected a dict of dimensions")
        for dim, items in dims.items():
            if not isinstance(items, list) or not all(isinstance(i, dict) and "question" in i and "answer" in i
                                                      for i in items):
                raise BenchmarkDataError(f"{path}: video {vid!r}, dimension {dim!r}: expected a list of "
                                     "{'question', 'answer'} objects")
    return data


def fine_dimension(meta: dict[str, Any], video_id: str, dim: str) -> str:
    """The fine-grained aspect of the authors' print_result ('order' has no sub-type)."""
    if dim == "order":
        return "order"
    try:
        return str(meta[video_id.replace(".jpg", "").replace(".mp4", "")]["eval_dim"][dim]["type"])
    except (KeyError, TypeError):
        return "unknown"


def load_tempcompass(data_root: str | Path, fmt: str, limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """Docs of one format (one per question) and the number of missing videos."""
    if fmt not in FORMATS:
        raise KeyError(f"unknown TempCompass format {fmt!r}; choose one of {FORMATS}")
    root = pick_root(data_root, ("TempCompass",), "questions")
    data = _nested(root / "questions" / f"{fmt}.json")
    mc = _nested(root / "questions" / "multi-choice.json") if fmt == "captioning" else {}
    meta_path = root / "meta_info.json"
    meta = read_json(meta_path) if meta_path.is_file() else {}
    docs, missing = [], 0
    for vid, dims in data.items():
        video = locate_video([root / "videos"], [vid])
        missing += not video.found
        for dim, items in dims.items():
            for i, item in enumerate(items):
                doc = {"benchmark": "tempcompass", "format": fmt, "video_id": vid, "dim": dim,
                       "fine_dim": fine_dimension(meta, vid, dim), "index": i,
                       "video": str(video.path), "video_found": video.found, "video_searched": video.searched,
                       "question": str(item["question"]), "answer": str(item["answer"]),
                       "prompt": str(item["question"]) + ANSWER_PROMPT[fmt], "mc_question": "", "mc_answer": ""}
                if fmt == "captioning":
                    try:
                        first = mc[vid][dim][0]
                    except (KeyError, IndexError):
                        raise BenchmarkDataError(f"{root / 'questions' / 'multi-choice.json'}: captioning needs a "
                                             f"multi-choice question for video {vid!r}, dimension {dim!r}") from None
                    doc.update(mc_question=str(first["question"]), mc_answer=str(first["answer"]))
                docs.append(doc)
                if limit is not None and len(docs) >= limit:
                    return docs, missing
    if missing:
        log.warning("tempcompass %s: %d video(s) not found under %s", fmt, missing, root / "videos")
    return docs, missing
