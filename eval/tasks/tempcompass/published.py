"""The authors' own per-sample outputs of TempCompass as an `eval.run --predictions` file.

    python -m eval.tasks.tempcompass.published --repo /tmp/TempCompass --video_llm video-llava --out /tmp/tc.jsonl

llyx97/TempCompass ships `predictions/<video_llm>/<format>.json` ({video_id: {dimension: [{"question",
"answer", "prediction"}, ...]}}): the answers their published tables were computed from. Each becomes
{"task": "tempcompass_<format>", "question_id": "<video_id>/<dimension>/<index>", "answer": prediction},
so `python -m eval.run --predictions` scores them through this project's loaders, rules and reports
(docs/eval_benchmarks.md: which figure that reproduces, to what precision). The files are CC BY-NC 4.0
and ~0.5 MB each: read from a checkout, never copied into this repository.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dreamframe.config import parse_config

FORMATS = ("multi-choice", "yes_no", "caption_matching", "captioning")


@dataclass
class PublishedConfig:
    """Which of the authors' prediction files to convert, and where to."""

    repo: str = ""
    """A checkout of llyx97/TempCompass (holds predictions/<video_llm>/)."""
    video_llm: str = "video-llava"
    """The folder under predictions/ (video-llava, gemini, reka-core-20240501, ...)."""
    formats: list[str] = field(default_factory=lambda: ["multi-choice", "yes_no"])
    """Formats to convert (any of multi-choice, yes_no, caption_matching, captioning)."""
    out: str = "tempcompass_predictions.jsonl"
    """The JSONL written for eval.run --predictions."""


def lines(predictions: dict, fmt: str) -> list[dict[str, str]]:
    """One --predictions line per question of one format's predictions JSON, keyed as eval.predictions expects."""
    task = "tempcompass_" + fmt.replace("-", "_")
    return [{"task": task, "question_id": f"{vid}/{dim}/{i}", "answer": row["prediction"]}
            for vid, dims in predictions.items() for dim, rows in dims.items() for i, row in enumerate(rows)]


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(PublishedConfig, argv, "python -m eval.tasks.tempcompass.published", __doc__)
    folder = Path(cfg.repo) / "predictions" / cfg.video_llm
    bad = [f for f in cfg.formats if f not in FORMATS]
    if bad or not folder.is_dir():
        print(f"--repo {cfg.repo!r} --video_llm {cfg.video_llm!r}: " + (f"unknown format(s) {bad}; known {FORMATS}"
              if bad else f"no {folder}"), file=sys.stderr)
        return 2
    out: list[dict[str, str]] = []
    for fmt in cfg.formats:
        out += lines(json.loads((folder / f"{fmt}.json").read_text(encoding="utf-8")), fmt)
    Path(cfg.out).write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in out), encoding="utf-8")
    print(f"wrote {len(out)} predictions to {cfg.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
