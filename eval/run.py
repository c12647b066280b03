"""Score a video LVLM on video QA benchmarks with lm-eval as the engine, offline, batched, resumable.

    python -m eval.run --model runs/train/export --tasks mvbench,dreamframe_heldout --data-root data/bench --out runs/eval
    python -m eval.run --model tiny-llava_onevision --tasks dreamframe_heldout --data-root /tmp/x --out /tmp/ev
    python -m eval.run --list-tasks
    python -m eval.run --config configs/eval/default.yaml --model PATH --batch-size 16
    python -m eval.run --predictions answers.jsonl --name my-model --tasks msvd_qa --data-root data/bench

Results: `<out>/<model>/results_<timestamp>_<run id>.json` (lm-eval's layout plus a "dreamframe" block,
the run's record `eval.results.RunRecord`: model, fingerprint, source, packages, config, and per task its
judge, parse rule, prompt hashes, clip, protocol, partial download, errors and verdicts file; every
accuracy is a percentage) and `samples_<task>_<timestamp>_<run id>.jsonl`; several runs of one model may
write into one --out at once (eval/publish.py). Model answers are cached under `<out>/<model>/cache/`, so a
killed run started again with the same command only generates what is missing.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jsonargparse.typing import PositiveInt

from dreamframe.atomic import remove_path
from dreamframe.config import parse_config
from dreamframe.frames import SamplingRule
from dreamframe.path_names import check_component, component_problem
from eval.judges.options import JudgeOptions
from eval.publish import new_run_id, publish_results, staging_folder

TASKS_DIRNAME = ".dreamframe_tasks"


@dataclass
class EvalConfig:
    """Which model to score on which benchmarks, and how."""

    model: str = "tiny-llava_onevision"
    """Local folder saved/exported by models/ or training/, a `tiny-<family>` preset, or a hub id (with --family)."""
    name: str | None = None
    """Name of the model in results and the leaderboard; default: the model folder's name."""
    base_model: str | None = None
    """Name of the model this one was fine-tuned from (the leaderboard's deltas); default: from the model folder."""
    family: str | None = None
    """Adapter family for a hub id / public checkpoint folder (see models.registry.FAMILIES)."""
    model_overrides: dict[str, Any] = field(default_factory=dict)
    """ModelConfig fields to override, e.g. {"dtype": "bfloat16", "attn_implementation": "sdpa"}."""
    tasks: str = "dreamframe_heldout"
    """Comma-separated benchmarks (whole group) or single tasks; see --list-tasks."""
    data_root: str = "data/benchmarks"
    """Folder holding the benchmarks in their official layouts (each in its own subfolder, or this folder itself)."""
    data_dirs: dict[str, str] = field(default_factory=dict)
    """Per-benchmark folder overriding --data-root, e.g. {"dreamframe_heldout": "runs/data"}."""
    out: str = "runs/eval"
    """Output folder; results go to <out>/<model name>/."""
    batch_size: int = 8
    """Videos per generate call (left padding)."""
    num_frames: PositiveInt | None = None
    """Frames per video; None = see --frames_from."""
    frame_sampling: SamplingRule | None = None
    """segment_centre | linspace_inclusive | linspace_exclusive | videochat2; None = see --frames_from."""
    frames_from: Literal["model", "benchmark"] = "model"
    """Where the frame count and rule not given above come from: `model` = the clip the model was trained on
    (recorded in a folder exported by training/), else each benchmark's protocol (MVBench 16, DreamFrame
    held-out 8); `benchmark` = always the benchmark's protocol. The results say which (frame_sampling.source)."""
    max_new_tokens: int | None = None
    """Cap on generated tokens; None = each task's setting (MVBench 100)."""
    protocol: Literal["default", "official"] = "default"
    """`official`: each benchmark's frames as the model family's authors published them (eval/families/,
    eval/tasks/<bench>/protocols.yaml); the published settings, and which were applied, are recorded per task."""
    limit: int | None = None
    """Score only the first N items of each task (smoke runs; recorded in the results)."""
    max_question_chars: PositiveInt | None = 4000
    """Benchmark questions longer than this many characters are skipped and counted (results:
    dreamframe.skipped_items), never sent to the model, whose length check would stop the whole eval; None = no limit."""
    max_per_type: PositiveInt | None = None
    """DreamFrame held-out: score a fixed subset, at most N questions of each qa_type (minimal pairs kept
    whole; the same questions for every model and run); None: all. Recorded in the results (num_docs)."""
    judge: str = "auto"
    """Judge for open-ended answers: auto (the offline lexical judge), lexical, exact_match (normalised exact match;
    rules only where a benchmark has its own), a preset under configs/judges/ (gpt35, gpt35_tempcompass,
    gpt35_videobench, openai_compatible, local_smollm2) or a JudgeConfig YAML path."""
    judge_options: JudgeOptions = field(default_factory=JudgeOptions)
    """Typed overrides of the judge section --judge names, e.g. --judge_options.llm.base_url http://localhost:8000/v1
    (eval/judges/options.py); unset fields keep the preset's values."""
    bootstrap_iters: int = 1000
    """lm-eval bootstrap iterations for stderr of non-mean metrics."""
    seed: int = 1234
    threads: int | None = None
    """torch intra-op threads on CPU; None = torch's default (all cores). 1 is fastest for tiny models on a busy machine."""
    progress: bool = True
    """Show a progress bar."""
    list_tasks: bool = False
    """Print the task registry and exit."""
    write_tasks: bool = False
    """Only write the lm-eval task YAMLs and rows (under <out>/.dreamframe_tasks) and print the `lm_eval`
    commands that run them (eval/lm_eval_cli.py); no model is loaded."""
    predictions: str | None = None
    """JSONL of answers produced elsewhere ({"question_id", "answer"[, "task"]} a line; eval/predictions.py):
    scored by the same loaders, extraction, judges and reports; no model is loaded and no video read."""

    def __post_init__(self) -> None:
        if self.name is not None:  # it names the results folder: refused at parse time, before any model loads
            check_component(self.name, "--name")


def run(cfg: EvalConfig) -> Path:
    """Evaluate; returns the results JSON path (the tasks folder with --write-tasks)."""
    from lm_eval.utils import sanitize_model_name

    from eval.runtime import RunContext

    if cfg.threads:
        import torch

        torch.set_num_threads(cfg.threads)
    names = [t.strip() for t in cfg.tasks.split(",") if t.strip()]
    if not names:
        raise ValueError("--tasks is empty")
    out = Path(cfg.out)
    display = cfg.name or (Path(cfg.predictions).stem if cfg.predictions else _display_name(cfg.model))
    model_dir = out / result_folder_name(display, sanitize_model_name)
    ctx = RunContext(out_dir=model_dir, judge_name=cfg.judge, judge_options=cfg.judge_options)
    ctx.judge()  # the judge section resolved, checked and built before any task is read or model loads
    clip = frames_for(cfg)
    answers = _predictions(cfg.predictions) if cfg.predictions else None  # checked before any benchmark is read
    mat = _materialise(cfg, names, clip, ctx)
    if cfg.write_tasks:
        print(lm_eval_commands(mat))
        return mat.include_path
    if answers is not None:  # no model: the answers were produced elsewhere
        lm, info = answers, _predictions_info(display, cfg.base_model, answers)
    else:
        lm, info = _load_model(cfg, display, model_dir)
    frames_source = clip.source if cfg.protocol == "default" else "official protocol (tasks.<task>.protocol)"
    path, record = score_and_publish(cfg, lm, mat, ctx, info, frames_source, out, model_dir)
    _report_errors(record)
    judge = record.judge_summary()
    print(f"judge: {judge.name if judge.model is None else f'{judge.name} ({judge.model})'}"
          + ("; partial download: see the tasks marked partial" if record.partial else ""))
    print(f"results: {path}")  # a line of its own: scripts read the path from it
    return path


def _predictions(path: str) -> Any:
    """The answers of --predictions, read and checked (eval/predictions.py)."""
    from eval.predictions import PredictionsLM
    from eval.tasks import all_task_names

    return PredictionsLM(path, {t: b for b, ts in all_task_names().items() for t in ts})


def _predictions_info(display: str, base_model: str | None, lm: Any) -> dict[str, Any]:
    return {"model": display, "base_model": base_model, "source": "predictions", "family": None,
            "model_fingerprint": "predictions-" + lm.summary()["predictions_sha256"][:16]}


def _load_model(cfg: EvalConfig, display: str, model_dir: Path) -> tuple[Any, dict[str, Any]]:
    """The adapter wrapped as lm-eval's model, its answers cached per weights fingerprint; and what it is."""
    from eval.lm import DreamFrameLM
    from eval.models import build

    adapter, info = build(cfg.model, cfg.model_overrides, cfg.family)
    info["model"] = display
    if cfg.base_model:
        info["base_model"] = cfg.base_model
    lm = DreamFrameLM(adapter, batch_size=cfg.batch_size, progress=cfg.progress,
                      cache_dir=model_dir / "cache" / info["model_fingerprint"] / "answers")
    return lm, info


def _materialise(cfg: EvalConfig, names: list[str], clip: FrameChoice, ctx: Any) -> Any:
    """The lm-eval task files and rows of the asked benchmarks; what is left out is said on stderr."""
    from eval.tasks import materialise, missing_text

    mat = materialise(names, cfg.data_root, Path(cfg.out) / TASKS_DIRNAME, clip.num_frames, clip.rule,
                      cfg.data_dirs, judge=ctx.judge_section(), max_question_chars=cfg.max_question_chars,
                      protocol=protocol_for(cfg), need_videos=not cfg.predictions, max_per_type=cfg.max_per_type)
    for task, why in mat.skipped.items():
        print(f"skipping {task}: {why}", file=sys.stderr)
    for task, what in mat.skipped_items.items():
        print(f"{task}: {sum(what['counts'].values())} item(s) skipped {what['counts']}: "
              + "; ".join(what["examples"][:3]), file=sys.stderr)
    for name, what in mat.missing.items():
        print(f"partial download, {name}: {missing_text(what)}"
              + (f", {len(what['tasks'])} task(s) missing" if what.get("tasks") else "")
              + " - its scores are marked partial and never ranked with complete ones", file=sys.stderr)
    return mat


def score_and_publish(cfg: EvalConfig, lm: Any, mat: Any, ctx: Any, info: dict[str, Any], frames_source: str,
                      out: Path, model_dir: Path) -> tuple[Path, Any]:
    """lm-eval scores the tasks; the results file (lm-eval's layout + the record's "dreamframe" block) and the
    per-sample logs are staged in this run's own folder, then published into `model_dir`."""
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.utils import make_table

    from eval.run_record import build_record

    run_id = new_run_id()  # this run's own staging folder and file names: runs of one model share --out
    staging = staging_folder(out, run_id)
    tracker = EvaluationTracker(output_path=str(staging))
    results = evaluate(lm, mat, info["model"], tracker=tracker, limit=cfg.limit, max_new_tokens=cfg.max_new_tokens,
                       seed=cfg.seed, bootstrap_iters=cfg.bootstrap_iters, ctx=ctx)
    samples = results.pop("samples")
    record = build_record(cfg, info, mat, lm, ctx, results, frames_source)
    results["dreamframe"] = record.block()
    tracker.save_results_aggregated(results=results, samples=samples)
    for task in results["configs"]:
        tracker.save_results_samples(task_name=task, samples=samples[task])
    path = publish_results(staging / model_dir.name, model_dir, run_id)
    remove_path(staging)
    print(make_table(results))
    if "groups" in results:
        print(make_table(results, "groups"))
    return path, record


def _report_errors(record: Any) -> None:
    for task, rec in record.tasks.items():
        counts = rec.errors
        if any(counts.values()):
            print(f"{task}: {counts['skipped_questions']} question(s) skipped, {counts['missing_video']} video(s) "
                  f"missing, {counts['unreadable']} unreadable, {counts['judge_unparsable']} unparsable judge "
                  f"repl(ies) - details under dreamframe.tasks.{task}.error_items", file=sys.stderr)


@dataclass(frozen=True)
class FrameChoice:
    """The frames eval asks every benchmark for: a count and a rule, each None where the benchmark's own
    protocol decides (its `DEFAULT_FRAMES` ClipSpec), and where they came from (results: frame_sampling.source)."""

    num_frames: int | None
    rule: SamplingRule | None
    source: str


def frames_for(cfg: EvalConfig) -> FrameChoice:
    """The command line's count and rule, else (frames_from = model) the clip a trained model folder records
    (`models.saving.read_model_meta`), else None = each benchmark's protocol."""
    from models.saving import read_model_meta

    trained = None
    if cfg.frames_from == "model" and not cfg.predictions and Path(cfg.model).is_dir():
        meta = read_model_meta(cfg.model)
        trained = meta.trained_clip if meta else None
    num = cfg.num_frames or (trained.num_frames if trained else None)
    rule = cfg.frame_sampling or (trained.rule if trained else None)
    parts = [("command line", cfg.num_frames or cfg.frame_sampling), ("trained model", trained),
             ("benchmark protocol", num is None or rule is None)]
    source = " + ".join(name for name, used in parts if used)
    return FrameChoice(num, None if rule is None else SamplingRule(rule), source)


def protocol_for(cfg: EvalConfig) -> Any:
    """`--protocol official`: a function giving each benchmark's protocol record (eval/protocol.py); else None."""
    if cfg.protocol == "default":
        return None
    from eval.protocol import family_of, official

    if cfg.num_frames or cfg.frame_sampling:
        raise ValueError("--protocol official sets each benchmark's frames; drop --num-frames / --frame-sampling")
    family = family_of(cfg.model, cfg.family)
    return lambda bench, frames: official(family, bench, frames)


def evaluate(lm: Any, mat: Any, model_name: str, tracker: Any = None, limit: int | None = None,
             max_new_tokens: int | None = None, seed: int = 1234, bootstrap_iters: int = 1000,
             ctx: Any = None) -> dict[str, Any]:
    """lm-eval's `simple_evaluate` on materialised tasks (any LM object; tests pass their own), the run's
    context `ctx` (eval.runtime.RunContext; a default one if None) bound to the tasks' judged hooks, with
    the benchmarks' own group weighting applied (eval/group_scores.py)."""
    from lm_eval import simple_evaluate

    from eval.group_scores import apply_group_weights, pool_answered_only
    from eval.runtime import RunContext, task_manager

    results = simple_evaluate(
        model=lm, model_args={"model": model_name}, tasks=mat.task_names,
        task_manager=task_manager(mat.include_path, ctx if ctx is not None else RunContext()),
        limit=limit, log_samples=True, evaluation_tracker=tracker, bootstrap_iters=bootstrap_iters,
        gen_kwargs={"max_gen_toks": max_new_tokens} if max_new_tokens else None,
        random_seed=seed, numpy_random_seed=seed, torch_random_seed=seed, fewshot_random_seed=seed,
    )
    apply_group_weights(results, getattr(mat, "group_weights", {}))
    pool_answered_only(results)
    return results


def result_folder_name(display: str, sanitize: Any) -> str:
    """The folder under --out a model's results go to: lm-eval's own sanitising of the name (it writes
    there too), refused when it is not one visible folder name (`..`, a leading '.', over 255 bytes, a
    control character): the model's name when --name is not given, or --name after lm-eval's rewriting."""
    name = sanitize(display)
    problem = component_problem(name)
    if problem:
        raise ValueError(f"--name {display[:80]!r}: results folder name {name[:80]!r} {problem}; "
                         "give --name with letters, digits, '-', '_' or '.' (not first)")
    return name


def lm_eval_commands(mat: Any) -> str:
    """How to run the written tasks from lm-eval's own CLI (see eval/lm_eval_cli.py for why two forms)."""
    files = " ".join(sorted(str(p) for p in mat.include_path.glob("*.yaml")))  # groups are in a subfolder
    return (f"tasks written to {mat.include_path}\n"
            f"dreamframe-lm-eval --model dreamframe --model_args model=MODEL --include_path {mat.include_path} "
            f"--tasks {','.join(mat.task_names)}\n"
            f"lm_eval --model dreamframe --model_args model=MODEL --tasks {files.replace(' ', ',')}")


def _display_name(model: str) -> str:
    path = Path(model)
    return path.resolve().name if path.is_dir() else model


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(argv):  # a bare `--list-tasks` means true
        if arg in ("--list-tasks", "--list_tasks") and (i + 1 == len(argv) or argv[i + 1].startswith("--")):
            argv.insert(i + 1, "true")
            break
    cfg = parse_config(EvalConfig, argv, prog="python -m eval.run", description=__doc__.split("\n\n")[0])
    if cfg.list_tasks:
        from eval.tasks import all_task_names

        print(json.dumps(all_task_names(), indent=2))
        return 0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        run(cfg)
    except (KeyError, ValueError, FileNotFoundError) as err:  # PredictionsError is a ValueError
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {msg}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
