"""Video-MME from the HF parquet most people download:

    videomme/test-*.parquet   video_id, duration (short/medium/long), domain, sub_category, url, videoID,
                              question_id, task_type, question, options ["A. ...", ...], answer (letter)
    data/<videoID>.mp4        videos
    subtitle/<videoID>.srt    subtitles (the "with subtitles" setting)

Prompts are the ones in BradyFU/Video-MME's README, with and without subtitles.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from dreamframe.path_names import path_problem
from eval.tasks.common import BenchmarkDataError, locate_video

log = logging.getLogger(__name__)

COLUMNS = ("videoID", "question_id", "duration", "domain", "sub_category", "task_type", "question", "options", "answer")
INSTRUCTION = ("Select the best answer to the following multiple-choice question based on the video. "
               "Respond with only the letter (A, B, C, or D) of the correct option.")
SUBTITLE_HEADER = "This video's subtitles are listed below:"
_TIMING = re.compile(r"^\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->")
_TAGS = re.compile(r"<[^>]+>")


def parquet_files(data_root: str | Path) -> list[Path]:
    root = Path(data_root).expanduser()
    for folder in (root / "videomme", root, root / "Video-MME" / "videomme"):
        files = sorted(folder.glob("test-*.parquet")) or sorted(folder.glob("*.parquet"))
        if files:
            return files
    raise BenchmarkDataError(f"--data-root {root}: no videomme/test-*.parquet found")


def read_subtitles(path: Path) -> str:
    """Text lines of an .srt file in order (numbers, timings and markup dropped), one per line."""
    lines = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = _TAGS.sub("", raw).strip()
        if not line or line.isdigit() or _TIMING.match(line):
            continue
        if not lines or lines[-1] != line:
            lines.append(line)
    return "\n".join(lines)


def build_prompt(question: str, options: list[str], subtitles: str | None = None) -> str:
    body = "\n".join([INSTRUCTION, question, *options, "The best answer is:"])
    return f"{SUBTITLE_HEADER}\n{subtitles}\n{body}" if subtitles is not None else body


def load_videomme(data_root: str | Path, with_subtitles: bool = False,
                  limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """Docs (one per question) and the number of missing videos; missing subtitles give empty text."""
    import pyarrow.parquet as pq

    files = parquet_files(data_root)
    root = files[0].parent.parent if files[0].parent.name == "videomme" else files[0].parent
    rows: list[dict[str, Any]] = []
    for f in files:
        table = pq.read_table(f)
        absent = [c for c in COLUMNS if c not in table.column_names]
        if absent:
            raise BenchmarkDataError(f"{f}: missing column(s) {absent}; columns are {table.column_names}")
        rows.extend(table.to_pylist())
    rows = rows[:limit]
    docs, missing_ids = [], set()
    for row in rows:
        vid = str(row["videoID"])
        video = locate_video([root / "data", root / "videos"], [vid])
        if not video.found:
            missing_ids.add(vid)
        options = [str(o) for o in row["options"]]
        subs = None
        if with_subtitles:
            srt = root / "subtitle" / f"{vid}.srt"
            subs = read_subtitles(srt) if not path_problem(srt) and srt.is_file() else ""
        docs.append({"benchmark": "videomme", "question_id": str(row["question_id"]), "video_id": str(row.get("video_id", "")),
                     "videoID": vid, "video": str(video.path), "video_found": video.found,
                     "video_searched": video.searched,
                     "duration": str(row["duration"]), "domain": str(row["domain"]),
                     "sub_category": str(row["sub_category"]), "task_type": str(row["task_type"]),
                     "question": str(row["question"]), "options": options, "answer": str(row["answer"]).strip(),
                     "prompt": build_prompt(str(row["question"]), options, subs)})
    if missing_ids:
        log.warning("videomme: %d video(s) not found under %s", len(missing_ids), root / "data")
    return docs, len(missing_ids)
