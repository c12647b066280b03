"""The data check that runs before training starts: every file the training split needs is looked at once,
cheaply (JSON parses, images have their header and end marker and a nonzero size), so a corrupt file
fails the run in seconds with its name, not as a DataLoader traceback hours in.

It reads a few bytes per image, not the pixels: 36,000 keyframes take about a second.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path

from dreamframe.dataset import DatasetError, DatasetFolder
from training.config import DataConfig

SHOWN = 10
"""Problems listed by name in the error (the count says how many more)."""
TAIL_WINDOW = 1024
"""A JPEG's end marker must lie in its last this many bytes (a few encoders pad after it)."""


def image_problem(path: Path) -> str | None:
    """Why an image file cannot be whole (missing, empty, not JPEG/PNG, cut short), or None."""
    try:
        size = path.stat().st_size
    except OSError:
        return "missing"
    if size == 0:
        return "empty (0 bytes)"
    with open(path, "rb") as fh:
        head = fh.read(8)
        fh.seek(max(0, size - TAIL_WINDOW))
        tail = fh.read()
    if head.startswith(b"\xff\xd8\xff"):
        return None if b"\xff\xd9" in tail else "JPEG cut short (no end marker)"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return None if tail.endswith(b"IEND\xaeB`\x82") else "PNG cut short (no IEND chunk)"
    return f"not a JPEG or PNG file (starts with {head[:4]!r})"


def dataset_folder_problems(root: str | Path, split: str) -> tuple[list[str], int]:
    """Problems of a dataset folder's `split`: unparsable movie JSON files, and frame files its QA rows refer
    to that are missing or damaged. Returns (problems naming each file, files checked).

    One small function on purpose: dreamframe/dataset.py is getting the dataset-wide check (issue 12,
    writer side); this is the one call to swap for it."""
    folder = DatasetFolder(root)
    folder.manifest()  # a folder without a finished manifest fails here, naming it
    problems, checked = [], 0
    for path in sorted((folder.root / "movies").glob("*.json")):
        checked += 1
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            problems.append(f"{path}: not valid JSON ({err})")
    import pyarrow.parquet as pq  # not `datasets`: its import alone takes seconds

    frames = {folder.root / p for file in folder.qa_files(split)
              for paths in pq.read_table(file, columns=["frame_paths"]).column(0).to_pylist() for p in paths or []}
    image_problems, n = images_problems(frames)
    return problems + image_problems, checked + n


def images_problems(paths: Iterable[Path]) -> tuple[list[str], int]:
    problems, n = [], 0
    for path in sorted(set(paths)):
        n += 1
        why = image_problem(path)
        if why:
            problems.append(f"{path}: {why}")
    return problems, n


def json_source_problems(path: str, media_root: str | None) -> tuple[list[str], int]:
    """Problems of a LLaVA JSON source: the file itself, and every image / frame it lists, or video it names."""
    file = Path(path)
    try:
        records = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return [f"{file}: not valid JSON ({err})"], 1
    root = Path(media_root) if media_root else file.parent
    images, problems = [], []
    for rec in records if isinstance(records, list) else []:
        images += [root / f for f in rec.get("frames") or []] + ([root / rec["image"]] if rec.get("image") else [])
        if rec.get("video") and not (root / rec["video"]).exists():
            problems.append(f"{root / rec['video']}: missing (video of record {rec.get('id', '?')} in {file})")
    image_problems, n = images_problems(images)
    return problems + image_problems, n + 1


def check_training_data(data: DataConfig) -> str:
    """Raise DatasetError naming every damaged file (up to SHOWN) of the training sources; returns a one-line
    summary when all look whole."""
    start = time.perf_counter()
    problems, checked = [], 0
    for src in data.sources:
        found, n = (dataset_folder_problems(src.path, src.split) if Path(src.path).is_dir()
                    else json_source_problems(src.path, src.media_root))
        problems += found
        checked += n
    if problems:
        more = f"\n  ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        raise DatasetError(f"data check: {len(problems)} damaged or missing file(s) in the training data:\n  "
                           + "\n  ".join(problems[:SHOWN]) + more)
    return f"data check: {checked} files look whole ({time.perf_counter() - start:.1f} s)"
