"""The held-out summary: every model beside the controls that never see the frames, per question type.

    python -m eval.summary --eval runs/demo/eval --data runs/demo/data \\
        --models '{"base": "tiny-base", "blind": "tiny-blind", "tuned": "tiny-dreamframe"}' --out runs/demo/summary.json

Reads each model's per-sample logs of the DreamFrame held-out tasks (`dreamframe_heldout_closed`: option
log-likelihoods; `dreamframe_heldout_free`: free answers), scores them with `dreamframe.scoring` (as
training's built-in check does), adds `chance` and `majority` computed from the dataset folder, and
writes summary.json (percent, 95% Wilson intervals) and the same as a table in summary.txt. `verdict` says per qa_type whether the tuned model
beats the blind model and the majority answer with disjoint intervals - the only sense in which this
project calls a type "learned" - and flags a constant-answer shortcut.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dreamframe import scoring
from dreamframe.atomic import atomic_write_text
from dreamframe.config import parse_config
from dreamframe.dataset import DatasetFolder

CLOSED, FREE = "dreamframe_heldout_closed", "dreamframe_heldout_free"
SHORTCUT_MARGIN = 10.0
"""A type's most frequent answer may exceed the majority answer's share by at most this many points."""


@dataclass
class SummaryConfig:
    """Summarise held-out results of several models with their controls."""

    eval: str = "runs/demo/eval"
    """eval.run output folder holding one folder per model name."""
    data: str = "runs/demo/data"
    """The dataset folder the held-out questions came from (train split: the majority prior)."""
    models: dict[str, str] = field(default_factory=lambda: {"base": "tiny-base", "blind": "tiny-blind",
                                                            "tuned": "tiny-dreamframe"})
    """role -> model name under --eval; roles `blind` and `tuned` get the verdict."""
    out: str = "runs/demo/summary.json"
    """Where to write the summary."""


def _latest(folder: Path, task: str) -> Path:
    found = sorted(folder.glob(f"samples_{task}_*.jsonl"))
    if not found:
        raise FileNotFoundError(f"{folder}: no samples_{task}_*.jsonl (run python -m eval.run --tasks dreamframe_heldout)")
    return found[-1]


def _samples(path: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out[row["doc"]["id"]] = row
    return out


def model_records(folder: Path) -> list[dict[str, Any]]:
    """Per closed question: qa_type and the metrics of both protocols, from the lm-eval sample logs."""
    closed, free = _samples(_latest(folder, CLOSED)), _samples(_latest(folder, FREE))
    if closed.keys() != free.keys():
        raise ValueError(f"{folder}: {CLOSED} and {FREE} logs cover different questions")
    records = []
    for qid, row in closed.items():
        doc = row["doc"]
        logliks = [float(r[0]) for r in row["filtered_resps"]]
        answer = free[qid]["filtered_resps"][0]
        records.append({"id": qid, "qa_type": doc["qa_type"],
                        **scoring.closed_metrics(doc["options"], doc["answer"], logliks, answer)})
    return records


def _disjoint_above(a: dict[str, Any], b: dict[str, Any], key: str = "acc") -> bool:
    return f"{key}_ci" in a and f"{key}_ci" in b and a[f"{key}_ci"][0] > b[f"{key}_ci"][1]


def verdict(table: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Learned = tuned above blind and majority with disjoint 95% intervals; shortcut = one answer given
    (by likelihood or free generation) to more than (the most common correct answer's share +
    SHORTCUT_MARGIN) of a type's questions."""
    tuned, blind, majority = table["tuned"], table["blind"], table["majority"]
    per_type = {}
    for qa_type, t in tuned["per_type"].items():
        b, m = blind["per_type"].get(qa_type, {}), majority["per_type"].get(qa_type, {})
        limit = m.get("answer_share", 0.0) + SHORTCUT_MARGIN
        share = max(t.get("top_answer_share", 0.0), t.get("free_top_answer_share", 0.0))
        per_type[qa_type] = {"learned": _disjoint_above(t, b) and _disjoint_above(t, m),
                             "acc_minus_blind": round(t["acc"] - b.get("acc", float("nan")), 2),
                             "top_answer_share": share, "shortcut_limit": round(limit, 2),
                             "constant_answer": share > limit}
    return {"acc_minus_blind": round(tuned["acc"] - blind["acc"], 2),
            "acc_beats_blind": _disjoint_above(tuned, blind),
            "free_acc_minus_blind": round(tuned["free_acc"] - blind["free_acc"], 2),
            "learned_types": sorted(k for k, v in per_type.items() if v["learned"]),
            "constant_answer_types": sorted(k for k, v in per_type.items() if v["constant_answer"]),
            "per_type": per_type}


def summarise_run(cfg: SummaryConfig) -> dict[str, Any]:
    folder = DatasetFolder(cfg.data)
    test = [r for r in folder.load_qa("test") if r["options"]]
    table: dict[str, dict[str, Any]] = dict(scoring.controls(folder.load_qa("train"), test))
    for role, name in cfg.models.items():
        table[role] = scoring.summarise(model_records(Path(cfg.eval) / name))
    out: dict[str, Any] = {"heldout_closed": table, "models": dict(cfg.models), "dataset": str(cfg.data),
                           "units": "percent; *_ci: 95% Wilson intervals"}
    if {"tuned", "blind"} <= table.keys():
        out["verdict"] = verdict(table)
    return out


def format_table(summary: dict[str, Any]) -> str:
    """One line per qa_type: acc [95% CI] of every row, controls first."""
    table = summary["heldout_closed"]
    rows = [r for r in ("chance", "majority", "base", "blind", "tuned") if r in table]
    rows += [r for r in table if r not in rows]
    types = sorted({t for r in rows for t in table[r].get("per_type", {})})

    def cell(block: dict[str, Any], key: str = "acc") -> str:
        if key not in block:
            return "-"
        ci = block.get(f"{key}_ci")
        return f"{block[key]:5.1f}" + (f" [{ci[0]:4.1f},{ci[1]:5.1f}]" if ci else " " * 13)

    lines = [f"{'held-out closed acc (%)':24s}" + "".join(f"{r:>20s}" for r in rows)]
    lines.append(f"{'all':24s}" + "".join(f"{cell(table[r]):>20s}" for r in rows))
    for t in types:
        lines.append(f"  {t:22s}" + "".join(f"{cell(table[r].get('per_type', {}).get(t, {})):>20s}" for r in rows))
    free = [r for r in rows if "free_acc" in table[r]]
    lines.append(f"{'all, free generation':24s}" + "".join(
        f"{cell(table[r], 'free_acc') if r in free else '-':>20s}" for r in rows))
    v = summary.get("verdict")
    if v:
        lines.append(f"tuned - blind: acc {v['acc_minus_blind']:+.1f} points "
                     f"({'disjoint' if v['acc_beats_blind'] else 'overlapping'} 95% CIs), "
                     f"free_acc {v['free_acc_minus_blind']:+.1f}; learned (above blind and majority, disjoint CIs): "
                     f"{', '.join(v['learned_types']) or 'none'}; constant answers: "
                     f"{', '.join(v['constant_answer_types']) or 'none'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(SummaryConfig, argv, prog="python -m eval.summary", description=__doc__)
    try:
        summary = summarise_run(cfg)
    except (FileNotFoundError, ValueError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    text = format_table(summary)
    atomic_write_text(Path(cfg.out).with_suffix(".txt"), text + "\n")
    atomic_write_text(Path(cfg.out), json.dumps(summary, indent=2) + "\n")
    print(text)
    print(f"wrote {cfg.out} and {Path(cfg.out).with_suffix('.txt')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
