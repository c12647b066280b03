"""Model answers cached per task and sample, so a killed run resumes where it stopped.

One append-only JSONL file per task under `<out>/<model>/cache/<model_fingerprint>/answers/`.
The key hashes everything that decides a greedy answer besides the weights (prompt, video and
frame sampling, generation settings); the weights are in the folder name. A half-written last line
(a kill mid-write) is ignored. Videos that failed to load are never cached: a rerun retries them.
Judge verdicts live elsewhere (eval/judges/cache.py), so re-judging never re-runs the model.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def answer_key(context: str, visual: list[Any], gen_kwargs: dict[str, Any]) -> str:
    blob = json.dumps({"context": context, "visual": [_visual_id(v) for v in visual],
                       "gen_kwargs": gen_kwargs}, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _visual_id(item: Any) -> str:
    """A stable id for a Clip (all its fields) or a decoded image (its pixels)."""
    if hasattr(item, "as_dict"):
        return json.dumps(item.as_dict(), sort_keys=True)
    if hasattr(item, "tobytes") and hasattr(item, "size"):
        return "img:" + hashlib.sha256(item.tobytes()).hexdigest()[:32]
    return str(item)


class AnswerCache:
    """Append-only answer files, one per task."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def path(self, task: str) -> Path:
        return self.folder / f"{task}.jsonl"

    def load(self, task: str) -> dict[str, str]:
        path = self.path(task)
        out: dict[str, str] = {}
        if not path.exists():
            return out
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    row = json.loads(line)
                    out[row["key"]] = row["answer"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # a line cut short by a kill
        return out

    def append(self, task: str, rows: list[dict[str, Any]]) -> None:
        """Write rows ({"key", "doc_id", "answer"}) and make them durable before returning."""
        if not rows:
            return
        path = self.path(task)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            if fh.tell() > 0:
                fh.write("\n")  # a clean line even after a torn last write; blank lines are skipped
            fh.write("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
            fh.flush()
            os.fsync(fh.fileno())
