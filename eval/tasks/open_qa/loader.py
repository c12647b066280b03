"""MSVD-QA, MSRVTT-QA, TGIF-QA and ActivityNet-QA in the layout Video-LLaVA and most papers use:

    GPT_Zero_Shot_QA/MSVD_Zero_Shot_QA/        test_q.json test_a.json videos/<video_name>.avi
    GPT_Zero_Shot_QA/MSRVTT_Zero_Shot_QA/      test_q.json test_a.json videos/all/<video_name>.mp4
    GPT_Zero_Shot_QA/TGIF_Zero_Shot_QA/        test_q.json test_a.json mp4/<video_name>.mp4
    GPT_Zero_Shot_QA/Activitynet_Zero_Shot_QA/ test_q.json test_a.json all_test/v_<video_name>.(mp4|mkv|webm)

PLLaVA's copy (magic-research/PLLaVA `tasks/eval/videoqabench/__init__.py`, README "DATAS/VideoQA") is
also found: `TGIF_QA/` with `tgif_videos/*.gif` (or `videos/`, `videos_mp4/`, `video_gif/`) and
`ActivityNet/all_test/`.

test_q.json and test_a.json are paired BY POSITION, as the reference scripts do; question_ids that do
not agree are reported (and `pair_by="question_id"` pairs by id instead).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.tasks.common import BenchmarkDataError, locate_video, pick_root, read_json

log = logging.getLogger(__name__)

ACTIVITYNET_TYPES = {0: "motion", 1: "spatial", 2: "temporal", 3: "yes_no", 4: "color", 5: "object",
                     6: "location", 7: "number", 8: "other"}


@dataclass(frozen=True)
class OpenQASpec:
    folder: str
    video_dirs: tuple[str, ...]
    usual_ext: str
    """The extension the official download uses (names the expected file of a missing video)."""
    prefix: str = ""
    type_names: dict[int, str] = field(default_factory=dict)
    other_folders: tuple[str, ...] = ()
    """Folder names other re-distributions use (PLLaVA's DATAS/VideoQA)."""


BENCHMARKS: dict[str, OpenQASpec] = {
    "msvd_qa": OpenQASpec("MSVD_Zero_Shot_QA", ("videos", "YouTubeClips"), ".avi"),
    "msrvtt_qa": OpenQASpec("MSRVTT_Zero_Shot_QA", ("videos/all", "videos", "TestVideo"), ".mp4"),
    "tgif_qa": OpenQASpec("TGIF_Zero_Shot_QA", ("mp4", "tgif_videos", "videos_mp4", "videos", "video_gif", "gifs"),
                          ".mp4", other_folders=("TGIF_QA",)),
    "activitynet_qa": OpenQASpec("Activitynet_Zero_Shot_QA", ("all_test", "videos", "v1-3/test"), ".mp4", "v_",
                                 ACTIVITYNET_TYPES, other_folders=("ActivityNet",)),
}


@dataclass
class LoadReport:
    """What the loader found wrong, for the results' error block."""

    missing_video: int = 0
    id_mismatches: int = 0
    notes: list[str] = field(default_factory=list)


def benchmark_dir(data_root: str | Path, name: str) -> Path:
    spec = BENCHMARKS[name]
    folders = (spec.folder, *spec.other_folders)
    return pick_root(data_root, tuple(f"{top}{f}" for top in ("GPT_Zero_Shot_QA/", "DATAS/VideoQA/", "") for f in folders),
                     "test_q.json")


def _check_rows(rows: Any, path: Path, keys: tuple[str, ...]) -> list[dict]:
    if not isinstance(rows, list):
        raise BenchmarkDataError(f"{path}: expected a JSON list of objects, got {type(rows).__name__}")
    for i, row in enumerate(rows):
        missing = [k for k in keys if not isinstance(row, dict) or k not in row]
        if missing:
            raise BenchmarkDataError(f"{path}: item {i} lacks field(s) {missing}")
    return rows


def pair_questions(questions: list[dict], answers: list[dict], pair_by: str, report: LoadReport,
                   where: Path) -> list[tuple[dict, dict]]:
    """Pair test_q and test_a rows by position (reference behaviour) or by question_id."""
    if pair_by == "question_id":
        by_id = {str(a["question_id"]): a for a in answers}
        pairs = [(q, by_id[str(q["question_id"])]) for q in questions if str(q["question_id"]) in by_id]
        if len(pairs) != len(questions):
            report.notes.append(f"{where}: {len(questions) - len(pairs)} question(s) have no answer with their id")
        return pairs
    if pair_by != "position":
        raise ValueError(f"pair_by: {pair_by!r} is not 'position' or 'question_id'")
    if len(questions) != len(answers):
        raise BenchmarkDataError(f"{where}: test_q.json has {len(questions)} items but test_a.json has {len(answers)}; "
                             "pairing by position is impossible (try pair_by=question_id)")
    bad = [i for i, (q, a) in enumerate(zip(questions, answers)) if str(q["question_id"]) != str(a["question_id"])]
    report.id_mismatches = len(bad)
    if bad:
        i = bad[0]
        msg = (f"{where}: {len(bad)} of {len(questions)} position-paired items have different question_ids "
               f"(first at index {i}: {questions[i]['question_id']!r} vs {answers[i]['question_id']!r})")
        report.notes.append(msg)
        log.warning(msg)
    return list(zip(questions, answers))


def load_open_qa(data_root: str | Path, name: str, pair_by: str = "position",
                 limit: int | None = None) -> tuple[list[dict[str, Any]], LoadReport]:
    """Docs (one per question) and a LoadReport; a doc whose video is missing keeps the path it was
    expected at (`video_found` False, `video_searched` says where it was looked for)."""
    if name not in BENCHMARKS:
        raise KeyError(f"unknown open-ended QA benchmark {name!r}; choose one of {sorted(BENCHMARKS)}")
    spec, root = BENCHMARKS[name], benchmark_dir(data_root, name)
    questions = _check_rows(read_json(root / "test_q.json"), root / "test_q.json", ("video_name", "question", "question_id"))
    answers = _check_rows(read_json(root / "test_a.json"), root / "test_a.json", ("answer", "question_id"))
    report = LoadReport()
    pairs = pair_questions(questions, answers, pair_by, report, root)
    folders = [root / d for d in spec.video_dirs]
    docs = []
    for q, a in pairs[:limit]:
        stem = str(q["video_name"])
        stems = [spec.prefix + stem, stem] if spec.prefix and not stem.startswith(spec.prefix) else [stem]
        video = locate_video(folders, stems, spec.usual_ext)
        report.missing_video += not video.found
        qtype = a.get("type")
        try:
            qtype = None if qtype is None else int(qtype)
        except (TypeError, ValueError):
            raise BenchmarkDataError(f"{root / 'test_a.json'}: question_id {a['question_id']!r}: type {qtype!r} is not an int") from None
        docs.append({
            "benchmark": name, "question_id": str(q["question_id"]), "video_name": stem,
            "video": str(video.path), "video_found": video.found, "video_searched": video.searched,
            "question": str(q["question"]),
            "answer": str(a["answer"]), "type": -1 if qtype is None else qtype,
            "type_name": spec.type_names.get(qtype, str(qtype)) if qtype is not None else "unknown",
        })
    if report.missing_video:
        log.warning("%s: %d of %d video(s) not found under %s", name, report.missing_video, len(docs),
                    ", ".join(map(str, folders)))
    return docs, report
