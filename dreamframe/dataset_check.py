"""The cheap data check of a dataset folder: every problem named by its file, before hours of training.

    from dreamframe.dataset_check import check_dataset
    problems = check_dataset("runs/data")              # [] when the folder is whole
    python -m data_gen.check --dataset runs/data      # the same from the shell

Reads names, headers and sizes only: each movie JSON (full schema), each keyframe's JPEG start and end
markers, each video's MP4 box chain, the QA tables (one row per QA pair of a finished movie, ids
unique, frame paths on disk) and the manifest's counts against what is on disk.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from dreamframe.answerable import clip_problems
from dreamframe.dataset import SPLITS, DatasetError, DatasetFolder, frame_name
from dreamframe.schema import Movie, SchemaError


def jpeg_problem(path: Path) -> str | None:
    """A JPEG must start with SOI and end with EOI: a truncated file loses its end marker."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(3)
            fh.seek(max(0, os.fstat(fh.fileno()).st_size - 2))
            tail = fh.read(2)
    except OSError as err:
        return f"{path}: unreadable ({err.strerror})"
    if head != b"\xff\xd8\xff":
        return f"{path}: not a JPEG (bad start marker)"
    if tail != b"\xff\xd9":
        return f"{path}: truncated JPEG (no end marker)"
    return None


def mp4_problem(path: Path) -> str | None:
    """Walk the top-level MP4 boxes: they must tile the file exactly and include the `moov` index."""
    try:
        size = path.stat().st_size
        kinds = []
        with open(path, "rb") as fh:
            pos = 0
            while pos < size:
                fh.seek(pos)
                header = fh.read(16)
                if len(header) < 8:
                    return f"{path}: truncated video (box header at byte {pos})"
                length, kind = int.from_bytes(header[:4], "big"), header[4:8]
                if length == 1:
                    length = int.from_bytes(header[8:16], "big")
                elif length == 0:
                    length = size - pos
                if length < 8 or pos + length > size:
                    return f"{path}: truncated video (box {kind!r} at byte {pos} runs past the end)"
                kinds.append(kind)
                pos += length
    except OSError as err:
        return f"{path}: unreadable ({err.strerror})"
    if not kinds or kinds[0] != b"ftyp" or b"moov" not in kinds:
        return f"{path}: not a complete MP4 (top-level boxes {[k.decode('latin-1') for k in kinds[:4]]})"
    return None


def _movie_problems(folder: DatasetFolder, movie: Movie) -> list[str]:
    problems = folder.movie_problems(movie)
    if problems:
        return problems
    for i in range(movie.num_keyframes):
        if bad := jpeg_problem(folder.frames_dir(movie.id) / frame_name(i)):
            problems.append(bad)
    if folder.expects_video and (bad := mp4_problem(folder.video_path(movie.id))):
        problems.append(bad)
    return problems


def _qa_problems(folder: DatasetFolder, movies: dict[str, Movie]) -> tuple[list[str], Counter]:
    """QA rows against the movies; returns the problems and the row count per split."""
    import pyarrow.parquet as pq

    problems, per_split = [], Counter()
    seen: dict[str, set[str]] = {m: set() for m in movies}
    for split in SPLITS:
        path = folder.qa_path(split)
        try:
            table = pq.read_table(path, columns=["id", "movie_id", "split", "frame_paths"]).to_pylist()
        except (OSError, ValueError) as err:  # pyarrow's errors subclass these
            problems.append(f"{path}: cannot read QA table ({err})")
            continue
        per_split[split] = len(table)
        strangers = Counter(row["movie_id"] for row in table if row["movie_id"] not in movies)
        problems += [f"{path}: {n} row(s) are about movie {m}, which has no readable movie JSON"
                     for m, n in sorted(strangers.items())]
        for row in table:
            movie = movies.get(row["movie_id"])
            if movie is None:
                continue
            if row["id"] in seen[movie.id]:
                problems.append(f"{path}: QA row {row['id']} appears twice")
            seen[movie.id].add(row["id"])
            if row["split"] != split or movie.split != split:
                problems.append(f"{path}: row {row['id']} has split {row['split']}, movie {movie.id} is {movie.split}")
            names = {f"frames/{movie.id}/{frame_name(i)}" for i in range(movie.num_keyframes)}
            if bad := [p for p in row["frame_paths"] if p not in names]:
                problems.append(f"{path}: row {row['id']} names frame {bad[0]}, not a frame of {movie.id}")
    for movie_id, movie in movies.items():
        want = {q.id for q in movie.qa}
        if seen[movie_id] != want:
            lost = sorted(want - seen[movie_id])
            detail = f"{len(lost)} QA row(s) missing, first {lost[0]}" if lost else "rows differ from its QA pairs"
            problems.append(f"{folder.qa_path(movie.split)}: movie {movie_id}: {detail}")
    return problems, per_split


def _count_problems(folder: DatasetFolder, movies: dict[str, Movie], qa_per_split: Counter) -> list[str]:
    try:
        counts = folder.manifest()["counts"]
    except (DatasetError, ValueError, KeyError) as err:
        return [f"{folder.manifest_path}: unreadable ({err})"]
    on_disk = {
        "movies": len(movies),
        "frames": sum(m.num_keyframes for m in movies.values()),
        "qa": sum(len(m.qa) for m in movies.values()),
        "movies_by_split": dict(Counter(m.split for m in movies.values())),
        "qa_by_split": {s: qa_per_split.get(s, 0) for s in SPLITS},
    }
    return [f"{folder.manifest_path}: counts.{key} is {json.dumps(counts.get(key))}, on disk {json.dumps(value)}"
            for key, value in on_disk.items() if counts.get(key) != value]


def handed_count(folder: DatasetFolder, num_frames: int | None) -> tuple[int | None, str]:
    """(frames a model is handed per clip, rule): `num_frames`, else the config's qa.clip_frames (None: all)."""
    import yaml

    cfg = yaml.safe_load(folder.config_path.read_text(encoding="utf-8")) if folder.config_path.exists() else {}
    try:
        rule = folder.frame_rule() or "segment_centre"
    except (DatasetError, ValueError):  # a broken manifest is reported by the checks below, not here
        rule = "segment_centre"
    return num_frames or ((cfg or {}).get("qa") or {}).get("clip_frames"), rule


def check_dataset(root: str | Path, expected_ids: Iterable[str] | None = None,
                  num_frames: int | None = None) -> list[str]:
    """Every problem of a dataset folder, each naming its file; [] when it is whole.

    `expected_ids`: the movies that must be there (a lost movie is a problem). Every question is also checked
    against the clip a model is handed (`num_frames`, default the config's qa.clip_frames; dreamframe.answerable)."""
    folder = DatasetFolder(root)
    if not folder.root.is_dir():
        return [f"{folder.root}: no such dataset folder"]
    problems = [] if folder.config_path.exists() else [f"{folder.config_path}: missing"]
    movies: dict[str, Movie] = {}  # every readable movie JSON: what the manifest and QA tables describe
    whole = set()
    for movie_id in folder.movie_json_ids():
        try:
            movies[movie_id] = folder.load_movie(movie_id)
        except SchemaError as err:
            problems.append(str(err))
            continue
        if movie_problems := _movie_problems(folder, movies[movie_id]):
            problems += movie_problems
        else:
            whole.add(movie_id)
    count, rule = handed_count(folder, num_frames)
    for movie in movies.values():
        problems += [f"{folder.movie_path(movie.id)}: {p}" for p in clip_problems(movie, count, rule)]
    qa_problems, per_split = _qa_problems(folder, movies)
    problems += qa_problems + _count_problems(folder, movies, per_split)
    for movie_id in sorted(set(expected_ids or ()) - whole):
        problems.append(f"{folder.movie_path(movie_id)}: movie {movie_id} is not finished")
    return problems
