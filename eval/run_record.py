"""How `eval.run` fills its results record (eval/results.py) once, from what the run knows at the end: the
materialised tasks (frames, parse rules, protocols, partial downloads), the LM (frames handed over,
errors, answer counts) and the run context (judges, unparsable replies, verdict files)."""

from __future__ import annotations

from typing import Any

from dreamframe.config import to_dict
from eval.results import ClipRecord, GroupRecord, RunRecord, TaskRecord
from eval.runtime import RunContext

PACKAGES = ("dreamframe", "lm_eval", "torch", "transformers", "datasets", "av", "numpy", "pillow", "peft",
            "accelerate", "safetensors")


def task_record(task: str, mat: Any, lm: Any, ctx: RunContext, predictions: bool = False) -> TaskRecord:
    """One task's provenance; its numbers stay in lm-eval's `results`."""
    spec = mat.frame_sampling.get(task)  # a dreamframe.clip.ClipSpec
    missing = mat.missing.get(task) or {}
    errors = {"missing_video": lm.errors[task]["missing_video"] + missing.get("videos", 0),
              "skipped_questions": missing.get("questions", 0), "unreadable": lm.errors[task]["unreadable"],
              "judge_unparsable": ctx.judge_unparsable[task]}
    if predictions:  # answers from a file: the questions it has no answer for
        errors["missing_prediction"] = lm.errors[task]["missing_prediction"]
    record = TaskRecord(parse_rule=mat.parse_rules.get(task),
                        clip=ClipRecord(num_frames=spec.num_frames if spec else None,
                                        rule=str(spec.rule) if spec else None, to_model=lm.frames_to_model.get(task)),
                        protocol=mat.protocols.get(task) or {"name": "default"}, partial=mat.partial(task),
                        missing=mat.missing.get(task), num_docs=mat.num_docs.get(task), errors=errors,
                        error_items=list(lm.error_items[task]), verdicts=ctx.verdicts.get(task))
    if task in ctx.judges_used:
        record.judge = ctx.judges_used[task]
    return record


def build_record(cfg: Any, info: dict[str, Any], mat: Any, lm: Any, ctx: RunContext, results: dict[str, Any],
                 frames_source: str) -> RunRecord:
    """The run's record: the model, how answers were obtained, and a TaskRecord per task lm-eval scored."""
    from dreamframe.dataset import package_versions

    groups = set(results.get("groups") or {}) | {g for g, subs in (results.get("group_subtasks") or {}).items() if subs}
    answers = lm.summary() if cfg.predictions else {
        "generated": lm.stats["generated"], "options_scored": lm.stats["scored"], "from_cache": lm.stats["cached"],
        "answer_prefix_applied": lm.supports_answer_prefix,
        "answer_prefix_unsupported_batches": lm.stats["answer_prefix_unsupported"]}
    return RunRecord(
        model=info["model"], model_fingerprint=info["model_fingerprint"], source=info["source"],
        model_path=None if cfg.predictions else cfg.model, base_model=info.get("base_model"), family=info["family"],
        packages=package_versions(PACKAGES), config=to_dict(cfg),
        judge_config=to_dict(ctx.judge_config) if ctx.judge_config is not None else None,
        frames_source=frames_source, answers=answers, batch_size=cfg.batch_size, limit=cfg.limit,
        skipped_items=mat.skipped_items,
        tasks={t: task_record(t, mat, lm, ctx, bool(cfg.predictions)) for t in results["configs"]},
        groups={g: GroupRecord(partial=mat.partial(g), missing=mat.missing.get(g), weights=mat.group_weights.get(g))
                for g in sorted(groups)})
