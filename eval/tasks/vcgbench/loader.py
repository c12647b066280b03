"""Video-ChatGPT's generative benchmark (VCGBench, "Video_5_Benchmark") in its official layout:

    Video_5_Benchmark/Test_Videos/v_<id>.(mp4|mkv)
    Video_5_Benchmark/Benchmarking_QA/generic_qa.json      -> correctness, detail, context
    Video_5_Benchmark/Benchmarking_QA/temporal_qa.json     -> temporal
    Video_5_Benchmark/Benchmarking_QA/consistency_qa.json  -> consistency (Q1 and Q2 answered separately)

The same video appears several times, so every item is keyed `<video_name>_<occurrence>` (occurrence
counted from 0 in file order) exactly as the reference scripts do; keying on video_name alone would
silently drop items.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from eval.tasks.common import BenchmarkDataError, locate_video, pick_root, read_json

log = logging.getLogger(__name__)

FILES = {"generic": "generic_qa.json", "temporal": "temporal_qa.json", "consistency": "consistency_qa.json"}
_FIELDS = {"generic": ("Q", "A", "video_name"), "temporal": ("Q", "A", "video_name"),
           "consistency": ("Q1", "Q2", "A", "video_name")}


def occurrence_keys(video_names: list[str]) -> list[str]:
    """`<video_name>_<n>` with n counting earlier items of the same video (reference key scheme)."""
    seen: dict[str, int] = {}
    keys = []
    for name in video_names:
        seen[name] = seen.get(name, -1) + 1
        keys.append(f"{name}_{seen[name]}")
    return keys


def load_vcgbench(data_root: str | Path, split: str, limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """Docs of one QA file and the number of missing videos. Consistency items become TWO docs
    (which=1 / which=2, same key) because the model answers Q1 and Q2 separately."""
    if split not in FILES:
        raise KeyError(f"unknown VCGBench split {split!r}; choose one of {sorted(FILES)}")
    root = pick_root(data_root, ("Video_5_Benchmark",), "Benchmarking_QA")
    path = root / "Benchmarking_QA" / FILES[split]
    rows = read_json(path)
    if not isinstance(rows, list):
        raise BenchmarkDataError(f"{path}: expected a JSON list, got {type(rows).__name__}")
    for i, row in enumerate(rows):
        missing = [k for k in _FIELDS[split] if not isinstance(row, dict) or k not in row]
        if missing:
            raise BenchmarkDataError(f"{path}: item {i} lacks field(s) {missing}")
    rows = rows[:limit]
    keys = occurrence_keys([str(r["video_name"]) for r in rows])
    folders = [root / "Test_Videos", root / "videos"]
    docs, missing = [], 0
    for key, row in zip(keys, rows):
        name = str(row["video_name"])
        stems = [name] if name.startswith("v_") else [f"v_{name}", name]
        video = locate_video(folders, stems)
        missing += not video.found
        base = {"benchmark": "vcgbench", "split": split, "key": key, "video_name": name, "video": str(video.path),
                "video_found": video.found, "video_searched": video.searched, "answer": str(row["A"])}
        if split == "consistency":
            docs.append({**base, "which": 1, "question": str(row["Q1"]), "question1": str(row["Q1"]),
                         "question2": str(row["Q2"])})
            docs.append({**base, "which": 2, "question": str(row["Q2"]), "question1": str(row["Q1"]),
                         "question2": str(row["Q2"])})
        else:
            docs.append({**base, "which": 0, "question": str(row["Q"]), "question1": "", "question2": ""})
    if missing:
        log.warning("vcgbench %s: %d of %d video(s) not found under %s", split, missing, len(rows), root / "Test_Videos")
    return docs, missing
