"""The held-out summary: every model beside the controls that never see the frames, per question type.

    python -m eval.summary --eval runs/demo/eval --data runs/demo/data --shift_data runs/demo/data_shift \\
        --models '{"base": "tiny-base", "blind": "tiny-blind", "order_blind": "tiny-order-blind", "tuned": "tiny-dreamframe"}' \\
        --out runs/demo/summary.json

Reads each model's per-sample logs of the DreamFrame held-out tasks (`dreamframe_heldout_closed`: option
log-likelihoods; `dreamframe_heldout_free`: free answers, where scored; `dreamframe_shift_*` the same on the
shifted set), scores them with `dreamframe.scoring`
(as training's built-in check does; twins sharing a `pair_id` also as pairs, `pair_acc`), adds `chance` and
`majority` on the questions scored (the majority answer from the train split of --data, the training data),
and writes summary.json (percent, 95% Wilson intervals) and the same as tables in summary.txt: `heldout_closed`
(the test split of --data) and, given --shift_data, `heldout_shift` (the test split of --shift_data, drawn
differently from training) of the same shape. `verdict` (and `verdict_shift`) says per qa_type whether the
tuned model beats the blind model and the majority answer with disjoint intervals - the only sense in which
this project calls a type "learned" - whether it also beats the order-blind model, whether its `pair_acc`
beats every control's, and flags a constant-answer shortcut.
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
from dreamframe.jsonl import read_jsonl
from eval.results import RunRecord

CLOSED, FREE = "dreamframe_heldout_closed", "dreamframe_heldout_free"
TASKS = {"heldout_closed": (CLOSED, FREE), "heldout_shift": ("dreamframe_shift_closed", "dreamframe_shift_free")}
"""summary section -> the (closed, free) tasks whose sample logs it reads."""
SHORTCUT_MARGIN = 10.0
"""A type's most frequent answer may exceed the majority answer's share by at most this many points."""
ROWS = ("chance", "majority", "base", "blind", "order_blind", "tuned")
"""Table order: controls first; roles not listed follow."""
SECTIONS = {"heldout_closed": ("held-out closed", "verdict"), "heldout_shift": ("shifted closed", "verdict_shift")}


@dataclass
class SummaryConfig:
    """Summarise held-out results of several models with their controls."""

    eval: str = "runs/demo/eval"
    """eval.run output folder holding one folder per model name."""
    data: str = "runs/demo/data"
    """The dataset folder the held-out questions came from (train split: the majority prior)."""
    models: dict[str, str] = field(default_factory=lambda: {"base": "tiny-base", "blind": "tiny-blind",
                                                            "order_blind": "tiny-order-blind",
                                                            "tuned": "tiny-dreamframe"})
    """role -> model name under --eval; roles `blind` and `tuned` get the verdict (with `order_blind` beside)."""
    shift_data: str | None = None
    """The shifted held-out set's dataset folder (its test split; the models' dreamframe_shift_* logs under
    --eval); None: no heldout_shift. Its majority answer still comes from --data's train split."""
    out: str = "runs/demo/summary.json"
    """Where to write the summary."""


def _latest(folder: Path, task: str, required: bool = True) -> Path | None:
    """The per-sample log of `task` that the newest results file in `folder` scoring it names."""
    for path in sorted(folder.glob("results_*.json"), reverse=True):
        record = RunRecord.read(path)
        if task in record.tasks and record.tasks[task].samples:
            return folder / record.tasks[task].samples  # type: ignore[operator]
    if required:
        raise FileNotFoundError(f"{folder}: no results file with a {task} sample log "
                                "(run python -m eval.run --tasks dreamframe_heldout)")
    return None


def _samples(path: Path) -> dict[str, dict[str, Any]]:
    return {row["doc"]["id"]: row for _, row in read_jsonl(path)}


def model_records(folder: Path, tasks: tuple[str, str] = (CLOSED, FREE)) -> list[dict[str, Any]]:
    """Per closed question: qa_type, pair_id and the metrics of both protocols (free generation only where
    the free task was scored), from the lm-eval sample logs of the (closed, free) `tasks`."""
    closed_task, free_task = tasks
    closed = _samples(_latest(folder, closed_task))  # type: ignore[arg-type]
    free_path = _latest(folder, free_task, required=False)
    free = _samples(free_path) if free_path else None
    if free is not None and closed.keys() != free.keys():
        raise ValueError(f"{folder}: {closed_task} and {free_task} logs cover different questions")
    records = []
    for qid, row in closed.items():
        doc = row["doc"]
        logliks = [float(r[0]) for r in row["filtered_resps"]]
        answer = free[qid]["filtered_resps"][0] if free is not None else None
        records.append({"id": qid, "qa_type": doc["qa_type"], "pair_id": doc.get("pair_id") or None,
                        **scoring.closed_metrics(doc["options"], doc["answer"], logliks, answer)})
    return records


def _disjoint_above(a: dict[str, Any], b: dict[str, Any], key: str = "acc") -> bool:
    return f"{key}_ci" in a and f"{key}_ci" in b and a[f"{key}_ci"][0] > b[f"{key}_ci"][1]


def _minus(a: dict[str, Any], b: dict[str, Any], key: str) -> float | None:
    return round(a[key] - b[key], 2) if key in a and key in b else None


def _type_verdict(t: dict[str, Any], b: dict[str, Any], m: dict[str, Any], o: dict[str, Any] | None) -> dict[str, Any]:
    """One qa_type: learned (above blind and majority), above order-blind, pairs, constant answer."""
    limit = m.get("answer_share", 0.0) + SHORTCUT_MARGIN
    share = max(t.get("top_answer_share", 0.0), t.get("free_top_answer_share", 0.0))
    out: dict[str, Any] = {"learned": _disjoint_above(t, b) and _disjoint_above(t, m),
                           "acc_minus_blind": _minus(t, b, "acc"), "top_answer_share": share,
                           "shortcut_limit": round(limit, 2), "constant_answer": share > limit}
    if o is not None:
        out["above_order_blind"] = _disjoint_above(t, o)
    if "pair_acc" in t:
        rivals = [b, m] + ([o] if o is not None else [])
        out["pair_acc_minus_blind"] = _minus(t, b, "pair_acc")
        out["pair_learned"] = all(_disjoint_above(t, r, "pair_acc") for r in rivals)
    return out


def verdict(table: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Learned = tuned above blind and majority with disjoint 95% intervals (also reported: above the
    order-blind model; pair_acc above blind, majority and order-blind); shortcut = one answer given (by
    likelihood or free generation) to more than (the most common correct answer's share + SHORTCUT_MARGIN)
    of a type's questions."""
    tuned, blind, majority, order_blind = table["tuned"], table["blind"], table["majority"], table.get("order_blind")
    per_type = {qa_type: _type_verdict(t, blind["per_type"].get(qa_type, {}), majority["per_type"].get(qa_type, {}),
                                       None if order_blind is None else order_blind["per_type"].get(qa_type, {}))
                for qa_type, t in tuned["per_type"].items()}
    out = {"acc_minus_blind": _minus(tuned, blind, "acc"), "acc_beats_blind": _disjoint_above(tuned, blind),
           "free_acc_minus_blind": _minus(tuned, blind, "free_acc"),
           "learned_types": sorted(k for k, v in per_type.items() if v["learned"]),
           "constant_answer_types": sorted(k for k, v in per_type.items() if v["constant_answer"]),
           "pair_learned_types": sorted(k for k, v in per_type.items() if v.get("pair_learned")),
           "per_type": per_type}
    if order_blind is not None:
        out["above_order_blind_types"] = sorted(k for k, v in per_type.items() if v["above_order_blind"])
    return out


def heldout_table(eval_dir: Path, test_rows: list[dict[str, Any]], train_rows: list[dict[str, Any]],
                  models: dict[str, str], tasks: tuple[str, str] = (CLOSED, FREE)) -> dict[str, dict[str, Any]]:
    """Every model's summary and the controls, on the questions the models were scored on (eval.run
    --max_per_type scores a fixed subset; every model must have scored the same questions)."""
    records = {role: model_records(eval_dir / name, tasks) for role, name in models.items()}
    ids = {r["id"] for r in next(iter(records.values()), [])}
    for role, recs in records.items():
        if {r["id"] for r in recs} != ids:
            raise ValueError(f"{eval_dir / models[role]}: scored other held-out questions than "
                             f"{eval_dir / next(iter(models.values()))} (same eval.run options for every model)")
    test = [r for r in test_rows if r["id"] in ids]
    if len(test) != len(ids):
        raise ValueError(f"{eval_dir}: {len(ids) - len(test)} {tasks[0]} question(s) are not in the dataset's test split")
    table: dict[str, dict[str, Any]] = dict(scoring.controls(train_rows, test))
    for role, recs in records.items():
        table[role] = scoring.summarise(recs)
    return table


def summarise_run(cfg: SummaryConfig) -> dict[str, Any]:
    folder = DatasetFolder(cfg.data)
    train = folder.load_qa("train")
    test = [r for r in folder.load_qa("test") if r["options"]]
    out: dict[str, Any] = {"heldout_closed": heldout_table(Path(cfg.eval), test, train, cfg.models, TASKS["heldout_closed"]),
                           "models": dict(cfg.models), "dataset": str(cfg.data),
                           "units": "percent; *_ci: 95% Wilson intervals; pair_acc: every twin of a pair right"}
    if cfg.shift_data:
        shifted = [r for r in DatasetFolder(cfg.shift_data).load_qa("test") if r["options"]]
        out["heldout_shift"] = heldout_table(Path(cfg.eval), shifted, train, cfg.models, TASKS["heldout_shift"])
        out["dataset_shift"] = str(cfg.shift_data)
    for section, (_, key) in SECTIONS.items():
        if section in out and {"tuned", "blind"} <= out[section].keys():
            out[key] = verdict(out[section])
    return out


def _cell(block: dict[str, Any], key: str = "acc") -> str:
    if key not in block:
        return "-"
    ci = block.get(f"{key}_ci")
    return f"{block[key]:5.1f}" + (f" [{ci[0]:4.1f},{ci[1]:5.1f}]" if ci else " " * 13)


def section_table(table: dict[str, dict[str, Any]], title: str, v: dict[str, Any] | None) -> list[str]:
    """acc [95% CI] of every row per qa_type, controls first; then pair_acc of the types with pairs, free
    generation, and the verdict line."""
    rows = [r for r in ROWS if r in table] + [r for r in table if r not in ROWS]
    types = sorted({t for r in rows for t in table[r].get("per_type", {})})
    paired = [t for t in types if any("pair_acc" in table[r].get("per_type", {}).get(t, {}) for r in rows)]
    lines = [f"{title + ' acc (%)':24s}" + "".join(f"{r:>20s}" for r in rows)]
    lines.append(f"{'all':24s}" + "".join(f"{_cell(table[r]):>20s}" for r in rows))
    for t in types:
        lines.append(f"  {t:22s}" + "".join(f"{_cell(table[r].get('per_type', {}).get(t, {})):>20s}" for r in rows))
    for t in paired:
        lines.append(f"  {t + ', pairs':22s}" + "".join(
            f"{_cell(table[r].get('per_type', {}).get(t, {}), 'pair_acc'):>20s}" for r in rows))
    lines.append(f"{'all, free generation':24s}" + "".join(f"{_cell(table[r], 'free_acc'):>20s}" for r in rows))
    if v:
        free = v["free_acc_minus_blind"]
        lines.append(f"tuned - blind: acc {v['acc_minus_blind']:+.1f} points "
                     f"({'disjoint' if v['acc_beats_blind'] else 'overlapping'} 95% CIs), "
                     + (f"free_acc {free:+.1f}; " if free is not None else "")
                     + f"learned (above blind and majority, disjoint CIs): {', '.join(v['learned_types']) or 'none'}; "
                     + (f"above order-blind: {', '.join(v['above_order_blind_types']) or 'none'}; "
                        if "above_order_blind_types" in v else "")
                     + (f"pairs learned (pair_acc above every control): {', '.join(v['pair_learned_types']) or 'none'}; "
                        if paired else "")
                     + f"constant answers: {', '.join(v['constant_answer_types']) or 'none'}")
    return lines


def format_table(summary: dict[str, Any]) -> str:
    """The in-distribution table, then (when scored) the shifted set's."""
    parts = [section_table(summary[s], title, summary.get(key)) for s, (title, key) in SECTIONS.items() if s in summary]
    return "\n\n".join("\n".join(p) for p in parts)


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
