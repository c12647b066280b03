"""The main job: generate DreamFrame data, score the base model, fine-tune it, score again, report.

    python -m dreamframe.pipeline                                   # = --config configs/pipeline/demo_cpu.yaml
    python -m dreamframe.pipeline --config configs/pipeline/demo_cpu.yaml --out runs/demo2
    python -m dreamframe.pipeline --stages data,report              # only some stages

Every stage is its own `python -m <room>.<verb>` process (so `dreamframe` imports no room, and each
stage's memory is returned when it ends). A stage whose output exists is skipped, so a killed run
started again with the same command resumes; the stages themselves resume inside (movies, steps,
cached answers). Logs: <out>/logs/<stage>.log. At the end it prints where everything is and the
held-out scores of the base and fine-tuned model with 95% bootstrap intervals
(the leaderboard also shows the fine-tune's delta over its base).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dreamframe.atomic import atomic_write_text
from dreamframe.config import parse_config

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "pipeline" / "demo_cpu.yaml"
STAGES = ("data", "report", "base", "eval_base", "train", "eval_tuned", "leaderboard")


@dataclass
class PipelineConfig:
    """Generate data, evaluate the base model, fine-tune, evaluate again, write leaderboard + dataset report."""

    out: str = "runs/demo"
    """Folder for everything the run writes."""
    data_config: str = "configs/data_gen/default.yaml"
    """data_gen YAML for the dataset."""
    data_args: list[str] = field(default_factory=list)
    """Extra `python -m data_gen.generate` options, e.g. ["--num-movies", "40"]."""
    train_config: str = "configs/train/tiny_cpu.yaml"
    """training YAML; its data source is replaced by <out>/data."""
    train_args: list[str] = field(default_factory=list)
    """Extra `python -m training.train` options."""
    eval_tasks: str = "dreamframe_heldout"
    """Benchmarks scored before and after fine-tuning."""
    eval_args: list[str] = field(default_factory=list)
    """Extra `python -m eval.run` options."""
    base_name: str = "tiny-base"
    """Name of the untrained model in results and the leaderboard."""
    tuned_name: str = "tiny-dreamframe"
    """Name of the fine-tuned model in results and the leaderboard."""
    stages: str = ",".join(STAGES)
    """Comma-separated stages to run (always in this order): data,report,base,eval_base,train,eval_tuned,leaderboard."""
    threads: int | None = None
    """torch threads per stage (OMP_NUM_THREADS); None: the stage's default."""


def _stage_commands(cfg: PipelineConfig) -> dict[str, tuple[list[str], Path]]:
    """Stage -> (command, the output whose presence means the stage is done). Each marker is written last
    and atomically by its stage (training's summary.json after the atomic export, the manifest, the
    report's and leaderboard's index.html) or by `run_stage` after a stage exits 0 (.done_*)."""
    out = Path(cfg.out)
    py = [sys.executable, "-m"]
    data = out / "data"
    train_common = ["--config", str(out / "configs" / "train.yaml"), *cfg.train_args]
    eval_common = ["--tasks", cfg.eval_tasks, "--data_dirs", json.dumps({"dreamframe_heldout": str(data)}),
                   "--out", str(out / "eval"), *cfg.eval_args]
    return {
        "data": ([*py, "data_gen.generate", "--config", cfg.data_config, "--out", str(data), *cfg.data_args],
                 data / "manifest.json"),
        "report": ([*py, "data_gen.report", str(data), "--out", str(out / "report")], out / "report" / "index.html"),
        # the untrained model: the same config and seed as the fine-tune, stopped before step 1
        "base": ([*py, "training.train", *train_common, "--out", str(out / "base"), "--max_steps", "0"],
                 out / "base" / "summary.json"),
        "eval_base": ([*py, "eval.run", "--model", str(out / "base" / "export"), "--name", cfg.base_name,
                       *eval_common],
                      out / "eval" / ".done_base"),
        "train": ([*py, "training.train", *train_common, "--out", str(out / "train")],
                  out / "train" / "summary.json"),
        "eval_tuned": ([*py, "eval.run", "--model", str(out / "train" / "export"), "--name", cfg.tuned_name,
                        "--base_model", cfg.base_name, *eval_common],
                       out / "eval" / ".done_tuned"),
        "leaderboard": ([*py, "eval.leaderboard", str(out / "eval"), "--out", str(out / "leaderboard")],
                        out / "leaderboard" / "index.html"),
    }


def write_train_config(cfg: PipelineConfig) -> Path:
    """The training YAML pointed at this run's dataset: first source, tokenizer corpus; no built-in eval."""
    import yaml

    out = Path(cfg.out)
    data = yaml.safe_load(Path(cfg.train_config).read_text(encoding="utf-8")) or {}
    sources = data.setdefault("data", {}).get("sources") or [{}]
    sources[0] = {**sources[0], "path": str(out / "data")}
    data["data"].update(sources=sources, generate_config=None)
    tiny = (data.get("model") or {}).get("tiny")
    if isinstance(tiny, dict) and "corpus" in tiny:
        tiny["corpus"] = [str(out / "data")]
    data.setdefault("eval", {})["enabled"] = False  # eval.run scores both models instead
    path = out / "configs" / "train.yaml"
    text = f"# Written by dreamframe.pipeline from {cfg.train_config}\n" + yaml.safe_dump(data, sort_keys=False)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        atomic_write_text(path, text)
    return path


def run_stage(name: str, cmd: list[str], done: Path, log_dir: Path, env: dict[str, str]) -> float:
    """Run one stage with its output teed to <out>/logs/<stage>.log; returns seconds (0 when skipped)."""
    if done.exists():
        print(f"[{name}] done already ({done}), skipped", flush=True)
        return 0.0
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"[{name}] {shlex.join(cmd)}", flush=True)
    start = time.perf_counter()
    with open(log_dir / f"{name}.log", "ab") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            sys.stdout.buffer.write(line)
            sys.stdout.flush()
        rc = proc.wait()
    if rc != 0:
        raise RuntimeError(f"stage {name!r} failed with exit code {rc}; see {log_dir / f'{name}.log'}")
    if done.suffix == "" and done.name.startswith(".done"):
        atomic_write_text(done, "")
    return time.perf_counter() - start


def scores(cfg: PipelineConfig) -> list[str]:
    """'model task metric value [ci]' lines of the base and fine-tuned model, from the leaderboard CSV."""
    import csv

    path = Path(cfg.out) / "leaderboard" / "leaderboard.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["model"] in (cfg.base_name, cfg.tuned_name)]
    return [f"{r['model']:16s} {r['task']} {r['metric']} {float(r['value']):.1f}"
            + (f" [{float(r['ci_low']):.1f}, {float(r['ci_high']):.1f}]" if r["ci_low"] else "") for r in rows]


def run(cfg: PipelineConfig) -> dict[str, float]:
    wanted = [s.strip() for s in cfg.stages.split(",") if s.strip()]
    unknown = set(wanted) - set(STAGES)
    if unknown:
        raise ValueError(f"--stages: unknown stage(s) {sorted(unknown)}; choose from {', '.join(STAGES)}")
    env = dict(os.environ)
    env.setdefault("WANDB_MODE", "offline")
    env.setdefault("HF_HUB_OFFLINE", "1")
    if cfg.threads:
        env["OMP_NUM_THREADS"] = str(cfg.threads)
    out = Path(cfg.out)
    write_train_config(cfg)
    commands = _stage_commands(cfg)
    timings = {}
    for name in STAGES:
        if name in wanted:
            cmd, done = commands[name]
            timings[name] = round(run_stage(name, cmd, done, out / "logs", env), 1)
    atomic_write_text(out / "pipeline_timings.json", json.dumps(timings, indent=2) + "\n")
    return timings


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--config" not in argv and not any(a in ("-h", "--help") for a in argv):
        argv = ["--config", str(DEFAULT_CONFIG), *argv]
    cfg = parse_config(PipelineConfig, argv, prog="python -m dreamframe.pipeline", description=__doc__)
    try:
        timings = run(cfg)
    except (RuntimeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    out = Path(cfg.out)
    print(f"\nfinished in {sum(timings.values()):.0f} s: " + ", ".join(f"{k} {v:.0f}s" for k, v in timings.items()))
    for what, path in (("dataset", out / "data"), ("dataset report", out / "report" / "index.html"),
                       ("fine-tuned model", out / "train" / "export"), ("eval results", out / "eval"),
                       ("leaderboard", out / "leaderboard" / "index.html")):
        print(f"  {what:17s} {path}")
    for line in scores(cfg):
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
