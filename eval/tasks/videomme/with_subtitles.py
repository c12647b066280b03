"""Video-MME with subtitles: the README's subtitled prompt, one task per duration, pooled group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.tasks import videomme as _base

NAME = "videomme_w_subs"
DATA_DIR = _base.DATA_DIR
DEFAULT_FRAMES = _base.DEFAULT_FRAMES
GROUP = _base.GROUP
PARSE_RULE = _base.PARSE_RULE
TASKS = {f"{NAME}_{d}": f"{d} videos, with subtitles" for d in _base.DURATIONS}
template = _base.template
find_root = _base.find_root


def prepare(root: Path, task: str, num_frames: int, rule: str) -> list[dict[str, Any]]:
    return _base.rows(root, task, num_frames, rule, subtitles=True)
