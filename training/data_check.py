"""The data check that runs before training starts, cheaply (names, headers, sizes - no pixel is decoded),
so a corrupt file fails the run in seconds with its name, not as a DataLoader traceback hours in:
dataset folders get `dreamframe.dataset_check.check_dataset` (movie JSONs, keyframes, videos, QA rows,
manifest counts); LLaVA JSON sources are parsed and each image they list gets a JPEG/PNG header and
end-marker check, each video they name an existence check.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path

from dreamframe.dataset import DatasetError
from dreamframe.dataset_check import check_dataset, jpeg_problem
from training.config import DataConfig

SHOWN = 10
"""Problems listed by name in the error (the count says how many more)."""


def image_problem(path: Path) -> str | None:
    """Why an image file cannot be whole ("<path>: missing", empty, not JPEG/PNG, cut short), or None."""
    try:
        size = path.stat().st_size
    except OSError:
        return f"{path}: missing"
    if size == 0:
        return f"{path}: empty (0 bytes)"
    with open(path, "rb") as fh:
        head = fh.read(8)
        fh.seek(max(0, size - 8))
        tail = fh.read()
    if head.startswith(b"\xff\xd8\xff"):
        return jpeg_problem(path)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return None if tail == b"IEND\xaeB`\x82" else f"{path}: truncated PNG (no IEND chunk)"
    return f"{path}: not a JPEG or PNG file (starts with {head[:4]!r})"


def images_problems(paths: Iterable[Path]) -> list[str]:
    return [why for why in map(image_problem, sorted(set(paths))) if why]


def json_source_problems(path: str, media_root: str | None) -> list[str]:
    """Problems of a LLaVA JSON source: the file itself, and every image / frame it lists, or video it names."""
    file = Path(path)
    try:
        records = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return [f"{file}: not valid JSON ({err})"]
    root = Path(media_root) if media_root else file.parent
    images, problems = [], []
    for rec in records if isinstance(records, list) else []:
        images += [root / f for f in rec.get("frames") or []] + ([root / rec["image"]] if rec.get("image") else [])
        if rec.get("video") and not (root / rec["video"]).exists():
            problems.append(f"{root / rec['video']}: missing (video of record {rec.get('id', '?')} in {file})")
    return problems + images_problems(images)


def check_training_data(data: DataConfig) -> str:
    """Raise DatasetError naming every damaged file (up to SHOWN) of the training sources; returns a one-line
    summary when all look whole."""
    start = time.perf_counter()
    problems: list[str] = []
    # each file once: a curriculum lists one folder as several sources (other qa_types, weights)
    distinct = dict.fromkeys((src.path, src.media_root) for src in data.sources)
    for path, media_root in distinct:
        if Path(path).is_dir():  # the dataset folder's own check: movies, frames, videos, QA rows, counts
            problems += check_dataset(path)
        else:
            problems += json_source_problems(path, media_root)
    if problems:
        more = f"\n  ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        raise DatasetError(f"data check: {len(problems)} damaged or missing file(s) in the training data:\n  "
                           + "\n  ".join(problems[:SHOWN]) + more)
    return (f"data check: {len(data.sources)} source(s) ({len(distinct)} distinct) look whole - dataset folders by "
            "dreamframe.dataset_check, "
            f"LLaVA JSON files and their media by header ({time.perf_counter() - start:.1f} s)")
