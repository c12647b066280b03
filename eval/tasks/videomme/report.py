"""Video-MME accuracy per duration, domain, sub-category and task type, from an eval.run output.

    python -m eval.tasks.videomme.report --results runs/eval/<model>

Reads lm-eval's per-sample files (`samples_videomme*_<timestamp>.jsonl`, the newest of each task) and
scores them with the official extraction (eval/tasks/videomme/scoring.py); prints JSON and writes
`videomme_report.json` beside them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dreamframe.config import parse_config
from dreamframe.jsonl import read_jsonl


@dataclass
class ReportConfig:
    """Where the results are."""

    results: str = ""
    """A model's results folder written by eval.run (holds samples_videomme*_*.jsonl)."""
    subtitles: bool = False
    """Report the with-subtitles tasks (videomme_w_subs_*) instead of the plain ones."""


def newest_samples(folder: Path, subtitles: bool) -> list[Path]:
    prefix = "samples_videomme_w_subs_" if subtitles else "samples_videomme_"
    by_task: dict[str, Path] = {}
    for path in sorted(folder.glob(f"{prefix}*.jsonl")):
        task = path.name[len("samples_"):].rsplit("_", 1)[0]
        if subtitles or not task.startswith("videomme_w_subs"):
            by_task[task] = path  # sorted by name = by timestamp: the last one wins
    return list(by_task.values())


def report(folder: str | Path, subtitles: bool = False) -> dict[str, Any]:
    from eval.tasks.videomme.scoring import score_videomme

    folder = Path(folder)
    files = newest_samples(folder, subtitles)
    if not files:
        raise FileNotFoundError(f"{folder}: no samples_videomme{'_w_subs' if subtitles else ''}_*.jsonl files")
    items = []
    for path in files:
        for _, row in read_jsonl(path):
            resp = row.get("filtered_resps") or row.get("resps") or [""]
            pred = resp[0][0] if isinstance(resp[0], list) else resp[0]
            items.append({**row["doc"], "pred": pred or ""})
    out = score_videomme(items)
    out["files"] = [p.name for p in files]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(ReportConfig, argv, "python -m eval.tasks.videomme.report", __doc__)
    if not cfg.results:
        print("--results is required (a model's eval.run output folder)", file=sys.stderr)
        return 2
    out = report(cfg.results, cfg.subtitles)
    text = json.dumps(out, indent=1)
    (Path(cfg.results) / f"videomme{'_w_subs' if cfg.subtitles else ''}_report.json").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
