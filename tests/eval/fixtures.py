"""Small eval results folders in the shared contract: lm-eval's layout plus the "dreamframe" block
(`eval.results.RunRecord.block()`, as eval.run writes it).

    <out>/<model_name>/results_<timestamp>.json
    <out>/<model_name>/samples_<task>_<timestamp>.jsonl   (per-sample metric values)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from eval.leaderboard import benchmark_of, load_published
from eval.results import ClipRecord, GroupRecord, JudgeRecord, RunRecord, TaskRecord

MVBENCH_TASKS = (
    "action_sequence", "action_prediction", "action_antonym", "fine_grained_action", "unexpected_action",
    "object_existence", "object_interaction", "object_shuffle", "moving_direction", "action_localization",
    "scene_transition", "action_count", "moving_count", "moving_attribute", "state_change",
    "fine_grained_pose", "character_order", "egocentric_navigation", "episodic_reasoning",
    "counterfactual_inference",
)
STAMP = "2026-11-23T20-00-00.000000"


def _sample_line(doc_id: int, filt: str, metrics: dict[str, float]) -> str:
    row = {"doc_id": doc_id, "doc": {"question": f"q{doc_id}"}, "target": "A", "arguments": {},
           "resps": [["A"]], "filtered_resps": ["A"], "filter": filt, "metrics": list(metrics),
           "doc_hash": "x", "prompt_hash": "y", "target_hash": "z", **metrics}
    return json.dumps(row)


def _judge_of(task: str, judge: dict[str, Any] | None) -> JudgeRecord:
    """The file's judge for tasks of benchmarks that use one (open-ended QA, VCGBench), none for the others."""
    _, benchmarks = load_published("builtin")
    bench = benchmark_of(task, benchmarks) or task
    judged = benchmarks.get(bench, {}).get("judged", True)
    return JudgeRecord(**judge) if judge and judged else JudgeRecord(comparable_to_published=False)


def write_results(out: Path, model: str, per_task: dict[str, dict[str, list[float]]], *,
                  base_model: str | None = None, judge: dict[str, Any] | None = None,
                  frames: tuple[str, int] = ("segment_centre", 16), groups: dict[str, list[str]] | None = None,
                  fingerprint: str = "", stamp: str = STAMP, write_samples: bool = True) -> Path:
    """Write one model's results file; `per_task` maps task -> metric -> per-sample values.

    Group numbers (e.g. MVBench) are the mean of their subtasks' means, like lm-eval's groups of
    equally sized subtasks. Accuracy lists are given as 1/0 per question and written in percent
    (100/0), as eval.run writes them. Returns the results file path.
    """
    per_task = {t: {m: [100.0 * v for v in vals] if m in ("acc", "accuracy") else list(vals) for m, vals in ms.items()}
                for t, ms in per_task.items()}
    folder = out / model.replace("/", "__")
    folder.mkdir(parents=True, exist_ok=True)
    groups = groups or {}
    results: dict[str, dict[str, Any]] = {}
    for task, metrics in per_task.items():
        results[task] = {"alias": task}
        for m, vals in metrics.items():
            results[task][f"{m},none"] = float(np.mean(vals))
            results[task][f"{m}_stderr,none"] = float(np.std(vals) / max(1, len(vals) - 1) ** 0.5)
        if write_samples:
            with (folder / f"samples_{task}_{stamp}.jsonl").open("w") as fh:
                n = len(next(iter(metrics.values())))
                for i in range(n):
                    fh.write(_sample_line(i, "none", {m: metrics[m][i] for m in metrics}) + "\n")
    group_results = {}
    for grp, subs in groups.items():
        metric_names = list(per_task[subs[0]])
        group_results[grp] = {"alias": grp, **{f"{m},none": float(np.mean([results[s][f"{m},none"] for s in subs]))
                                               for m in metric_names}}
        for s in subs:
            results[s]["alias"] = f" - {s}"
    results = {**group_results, **results}
    data = {
        "results": results,
        "groups": group_results,
        "group_subtasks": {**groups, **{t: [] for t in per_task if t not in groups}},
        "configs": {t: {"task": t, "output_type": "generate_until"} for t in per_task},
        "versions": {t: 1.0 for t in per_task},
        "n-shot": {t: 0 for t in per_task},
        "higher_is_better": {t: {m: True for m in per_task[t]} for t in per_task},
        "n-samples": {t: {"original": len(next(iter(v.values()))), "effective": len(next(iter(v.values())))}
                      for t, v in per_task.items()},
        "config": {"model": "dreamframe", "model_args": f"path={model}", "batch_size": 4},
        "date": 1763928000.0,
        "dreamframe": RunRecord(
            model=model, base_model=base_model, model_fingerprint=fingerprint or f"fp-{model}", source="fixture",
            packages={"lm_eval": "0.4.13"},
            tasks={t: TaskRecord(judge=_judge_of(t, judge), clip=ClipRecord(num_frames=frames[1], rule=frames[0]),
                                 errors={"missing_video": 0, "unreadable": 0, "judge_unparsable": 0})
                   for t in per_task},
            groups={g: GroupRecord() for g in groups}).block(),
    }
    path = folder / f"results_{stamp}.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def binary(rng: np.random.Generator, n: int, p: float) -> list[float]:
    return [float(x) for x in (rng.random(n) < p)]


def make_demo(out: Path, n_per_task: int = 20, seed: int = 0) -> Path:
    """Two models (a base and its fine-tune, LLM judge A), a third model judged by judge B."""
    rng = np.random.default_rng(seed)
    mv_tasks = [f"mvbench_{t}" for t in MVBENCH_TASKS]
    judge_a = {"name": "llm-judge", "model": "SmolLM2-135M-Instruct", "comparable_to_published": False}
    judge_b = {"name": "llm-judge", "model": "gpt-4o-mini-2024-07-18", "comparable_to_published": False}
    for model, base, p, judge in (("tiny-llava-base", None, 0.35, judge_a),
                                  ("tiny-llava-dreamframe", "tiny-llava-base", 0.5, judge_a),
                                  ("tiny-qwen2vl", None, 0.45, judge_b)):
        per_task: dict[str, dict[str, list[float]]] = {
            t: {"acc": binary(rng, n_per_task, min(0.95, p + rng.normal(0, 0.1)))} for t in mv_tasks}
        acc = binary(rng, 4 * n_per_task, p + 0.1)
        per_task["msvd_qa"] = {"accuracy": acc, "score": [float(rng.integers(3, 6) if a else rng.integers(0, 3))
                                                          for a in acc]}
        per_task["dreamframe_heldout"] = {"acc": binary(rng, 2 * n_per_task, p + 0.2)}
        write_results(out, model, per_task, base_model=base, judge=judge, groups={"mvbench": mv_tasks})
    return out
