"""Check the TempCompass rules here against the authors' own rule verdicts.

    python -m eval.tasks.tempcompass.agreement --repo /path/to/TempCompass --video_llm video-llava

The authors' repository ships `auto_eval_results/<video_llm>/<format>.json`: for every question the
(cleaned) prediction, `match_success` (a rule decided it) and `rating`. For multi-choice, yes_no and
caption_matching this prints how many of their rule verdicts our rules reproduce (same rating where
a rule matched; no rule where none did - those went to ChatGPT). Prints JSON; exit 1 on any mismatch.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dreamframe.config import parse_config

FORMATS = ("multi-choice", "yes_no", "caption_matching")


@dataclass
class AgreementConfig:
    """Where the authors' evaluation outputs are."""

    repo: str = ""
    """A checkout of llyx97/TempCompass (holds auto_eval_results/)."""
    video_llm: str = "video-llava"
    """Which model's outputs to compare (a folder under auto_eval_results/)."""


def agreement(results: dict[str, Any], fmt: str) -> dict[str, Any]:
    """Counts of reproduced verdicts for one format's auto_eval_results JSON; mismatches listed (first 10)."""
    from eval.tasks.tempcompass.scoring import clean, rate

    same, total, mismatches = 0, 0, []
    for vid, dims in results.items():
        for dim, rows in dims.items():
            for row in rows:
                pred = clean(row["video-llm-prediction"])
                if pred is None:
                    continue
                theirs = row["rating"] if row.get("match_success") else None
                ours = rate(fmt, pred, {"question": row["question"], "answer": row["gt-answer"]})
                total += 1
                same += ours == theirs
                if ours != theirs and len(mismatches) < 10:
                    mismatches.append({"video": vid, "dim": dim, "prediction": pred, "theirs": theirs, "ours": ours})
    return {"reproduced": same, "total": total, "mismatches": mismatches}


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(AgreementConfig, argv, "python -m eval.tasks.tempcompass.agreement", __doc__)
    folder = Path(cfg.repo) / "auto_eval_results" / cfg.video_llm
    if not cfg.repo or not folder.is_dir():
        print(f"--repo {cfg.repo!r}: no auto_eval_results/{cfg.video_llm}/ in it", file=sys.stderr)
        return 2
    out = {fmt: agreement(json.loads((folder / f"{fmt}.json").read_text(encoding="utf-8")), fmt) for fmt in FORMATS}
    print(json.dumps(out, indent=1))
    return 0 if all(r["reproduced"] == r["total"] for r in out.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
