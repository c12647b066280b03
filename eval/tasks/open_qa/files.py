"""File lookups shared by the benchmark loaders: official layouts differ in folders and extensions."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".gif")


class BenchmarkError(RuntimeError):
    """A benchmark folder or annotation file that cannot be read as its official layout; names the path."""


def find_video(folders: Sequence[Path], stems: Sequence[str]) -> Path | None:
    """First existing `<folder>/<stem><ext>` over all folders, stems and VIDEO_EXTENSIONS (or a frame folder)."""
    for folder in folders:
        for stem in stems:
            for ext in VIDEO_EXTENSIONS:
                path = folder / f"{stem}{ext}"
                if path.is_file():
                    return path
            if (folder / stem).is_dir():
                return folder / stem
    return None


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise BenchmarkError(f"{path}: annotation file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise BenchmarkError(f"{path}: not valid JSON ({err})") from None


def pick_root(data_root: str | Path, candidates: Sequence[str], marker: str) -> Path:
    """The benchmark folder: `data_root` itself or one of `candidates` below it, whichever holds `marker`."""
    root = Path(data_root).expanduser()
    for rel in ("", *candidates):
        if (root / rel / marker).exists():
            return root / rel
    tried = ", ".join(str(root / rel / marker) for rel in ("", *candidates))
    raise BenchmarkError(f"--data-root {root}: no {marker} found (tried {tried})")
