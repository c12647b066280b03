"""The main job: does DreamFrame data teach a model to see, and to see *video*? Generate data, fine-tune,
and score the model beside controls that cannot see, or cannot see order: chance, the majority answer, a
blind twin trained without the right frames and an order-blind twin trained on each clip's frames in a
random order - on the held-out movies and on a shifted held-out set drawn differently from training.

    python -m dreamframe.pipeline                                   # = --config configs/pipeline/demo_cpu.yaml
    python -m dreamframe.pipeline --config configs/pipeline/demo_cpu.yaml --out runs/demo2
    python -m dreamframe.pipeline --stages data,report              # only some stages

Every stage is its own `python -m <room>.<verb>` process, a typed entry of the command table
(dreamframe/commands.py), so the launcher imports no room's code and each stage's memory is returned when
it ends; `jobs` stages run at once when their inputs are ready (the three trainings side by side). A stage
whose output exists is skipped, so a killed run started again with the same command resumes; the stages
themselves resume inside (movies, steps, cached answers). Logs: <out>/logs/<stage>.log; each stage's wall
and CPU seconds: <out>/pipeline_timings.json. The `summary` stage writes <out>/summary.json: held-out
closed accuracy (and `pair_acc` of minimal pairs) of base, blind, order-blind and tuned models, chance and
majority, overall and per question type, with 95% intervals, on both held-out sets, and the verdict of
which types the tuned model learned.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dreamframe.atomic import atomic_write_text
from dreamframe.commands import Command, Evaluate, Generate, Leaderboard, Report, Summarise, Train
from dreamframe.config import parse_config

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "pipeline" / "demo_cpu.yaml"
# In start order: when `jobs` stages may run at once, the three long trainings start first.
STAGES = ("data", "train", "train_blind", "train_order_blind", "data_shift", "report", "base", "eval_base",
          "eval_tuned", "eval_blind", "eval_order_blind", "summary", "leaderboard")
ROLES = ("base", "blind", "order_blind", "tuned")
"""The models both held-out sets score (stage eval_<role>: one eval.run process for both sets)."""
TRAINED = {"base": "base", "blind": "train_blind", "order_blind": "train_order_blind", "tuned": "train"}
"""role -> the stage that writes its export."""
PROGRESS_EVERY = 30.0
"""Seconds between two screen updates of one stage's progress bar (its log gets every update)."""
HELDOUT_TASKS = "dreamframe_heldout_closed,dreamframe_heldout_free,dreamframe_heldout_open"
CONTROL_TASKS = "dreamframe_heldout_closed,dreamframe_heldout_free"
SHIFT_TASKS = "dreamframe_shift_closed,dreamframe_shift_free"


@dataclass
class PipelineConfig:
    """Generate data, fine-tune a model and its blind twin, score both beside chance and the majority answer."""

    out: str = "runs/demo"
    """Folder for everything the run writes."""
    data_config: str = "configs/data_gen/default.yaml"
    """data_gen YAML for the dataset."""
    data_args: list[str] = field(default_factory=list)
    """Extra `python -m data_gen.generate` options, e.g. ["--num-movies", "40"]."""
    data_shift_config: str = "configs/data_gen/demo_shift.yaml"
    """data_gen YAML of the shifted held-out set (drawn differently from training; its test split is scored)."""
    data_shift_args: list[str] = field(default_factory=list)
    """Extra `python -m data_gen.generate` options for the shifted set."""
    train_config: str = "configs/train/tiny_cpu.yaml"
    """training YAML; its data source is replaced by <out>/data."""
    train_args: list[str] = field(default_factory=list)
    """Extra `python -m training.train` options (tuned, blind and base alike)."""
    eval_tasks: str = HELDOUT_TASKS
    """Held-out tasks scored for the tuned model on the in-distribution set (the summary needs the closed
    and free ones; the leaderboard shows the open one)."""
    control_eval_tasks: str = CONTROL_TASKS
    """Held-out tasks scored for the controls (base, blind, order-blind): what the summary reads."""
    shift_eval_tasks: str = SHIFT_TASKS
    """Tasks of the shifted held-out set (<out>/data_shift), scored for every model by the same eval.run."""
    eval_args: list[str] = field(default_factory=list)
    """Extra `python -m eval.run` options."""
    base_name: str = "tiny-base"
    """Name of the untrained model in results and the leaderboard."""
    blind_name: str = "tiny-blind"
    """Name of the blind control: same config, steps and seed, trained on frames of other movies."""
    order_blind_name: str = "tiny-order-blind"
    """Name of the order-blind control: same config, steps and seed, each clip's own frames in a random order."""
    tuned_name: str = "tiny-dreamframe"
    """Name of the fine-tuned model in results and the leaderboard."""
    stages: str = ",".join(STAGES)
    """Comma-separated stages to run (see STAGES; default: all)."""
    jobs: int = 3
    """Stages run at once (each stage waits for its inputs)."""
    threads: int | None = None
    """torch threads per stage (OMP_NUM_THREADS); None: the stage's default."""


@dataclass
class Stage:
    command: Command
    """What runs (an entry of the command table, dreamframe/commands.py)."""
    done: Path
    """The output whose presence means the stage is done."""
    after: tuple[str, ...] = ()


def stages(cfg: PipelineConfig) -> dict[str, Stage]:
    """Every stage's command, done marker and inputs. Each marker is written last and atomically by its
    stage (training's summary.json after the atomic export, the manifest, the summary, the report's and
    leaderboard's index.html) or by the runner after a stage exits 0 (.done_*). A stage waits for the
    inputs that are wanted in this run; one left out of --stages is taken as it is on disk."""
    out = Path(cfg.out)
    data, shift = out / "data", out / "data_shift"
    yamls = train_config_paths(cfg)
    names = {"base": cfg.base_name, "blind": cfg.blind_name, "order_blind": cfg.order_blind_name,
             "tuned": cfg.tuned_name}
    folders = {"base": "base", "blind": "blind", "order_blind": "order_blind", "tuned": "train"}

    def evaluate(role: str) -> Stage:
        """Score one model on both held-out sets in one process (its imports and model load paid once);
        only the tuned model also answers the open questions (the summary reads the closed and free tasks)."""
        tasks = (cfg.eval_tasks if role == "tuned" else cfg.control_eval_tasks) + "," + cfg.shift_eval_tasks
        command = Evaluate(model=str(out / folders[role] / "export"), name=names[role], tasks=tasks,
                           base_model=None if role == "base" else cfg.base_name, out=str(out / "eval"),
                           data_dirs={"dreamframe_heldout": str(data), "dreamframe_shift": str(shift)},
                           extra=cfg.eval_args)
        return Stage(command, out / "eval" / f".done_{role}", (TRAINED[role], "data_shift"))

    def train(role: str, **options: int) -> Stage:
        return Stage(Train(config=str(yamls[role]), extra=cfg.train_args, out=str(out / folders[role]), **options),
                     out / folders[role] / "summary.json", ("data",))

    evals = {f"eval_{role}": evaluate(role) for role in ROLES}
    with_summary = "summary" in cfg.stages.split(",") or (out / "summary.json").exists()
    return {
        "data": Stage(Generate(config=cfg.data_config, out=str(data), extra=cfg.data_args), data / "manifest.json"),
        "data_shift": Stage(Generate(config=cfg.data_shift_config, out=str(shift), extra=cfg.data_shift_args),
                            shift / "manifest.json"),
        "report": Stage(Report(dataset=str(data), out=str(out / "report")), out / "report" / "index.html", ("data",)),
        # the untrained model: the same config and seed as the fine-tune, stopped before step 1
        "base": train("base", max_steps=0),
        "train": train("tuned"),
        "train_blind": train("blind"),
        "train_order_blind": train("order_blind"),
        **evals,
        "summary": Stage(Summarise(eval=str(out / "eval"), data=str(data), shift_data=str(shift), models=names,
                                   out=str(out / "summary.json")), out / "summary.json", tuple(evals)),
        "leaderboard": Stage(Leaderboard(results=[str(out / "eval")], out=str(out / "leaderboard"),
                                         controls=str(out / "summary.json") if with_summary else None),
                             out / "leaderboard" / "index.html", (*evals, "summary")),
    }


def train_config_paths(cfg: PipelineConfig) -> dict[str, Path]:
    """Where each role's training config is written (base trains the tuned config for 0 steps)."""
    folder = Path(cfg.out) / "configs"
    tuned = folder / "train.yaml"
    return {"tuned": tuned, "base": tuned, "blind": folder / "train_blind.yaml",
            "order_blind": folder / "train_order_blind.yaml"}


def write_train_configs(cfg: PipelineConfig) -> dict[str, Path]:
    """The training configs pointed at this run's dataset (every source that reads the first source's
    folder - a curriculum lists one folder twice, with other qa_types and weights - and the tokenizer
    corpus; no built-in eval): the fine-tune's, the blind control's (every source's frames from other
    movies, `frames: shuffled`) and the order-blind control's (each clip's own frames as a set, ordered by
    their pixels in training and eval: `model.frame_order: content`). The train YAML is read by training's
    own parser into its TrainConfig, changed field by field, and written resolved (every key), so a renamed
    key fails here, by name."""
    from dataclasses import replace

    from dreamframe.config import to_yaml

    train = Train(config=cfg.train_config).parse()
    data = str(Path(cfg.out) / "data")
    first = train.data.sources[0].path
    sources = [replace(s, path=data) if s.path == first else s for s in train.data.sources]
    model = train.model
    if model.path is None and model.tiny.corpus:  # the tiny model's tokenizer learns this text
        model = replace(model, tiny=replace(model.tiny, corpus=[data]))
    tuned = replace(train, model=model, data=replace(train.data, sources=sources, generate_config=None),
                    eval=replace(train.eval, enabled=False))  # eval.run scores every model instead

    blind = replace(tuned, data=replace(tuned.data, sources=[replace(s, frames="shuffled") for s in sources]))
    order_blind = replace(tuned, model=replace(model, frame_order="content"))
    paths = train_config_paths(cfg)
    for role, content in (("tuned", tuned), ("blind", blind), ("order_blind", order_blind)):
        text = f"# Written by dreamframe.pipeline from {cfg.train_config}\n" + to_yaml(content)
        if not paths[role].exists() or paths[role].read_text(encoding="utf-8") != text:
            atomic_write_text(paths[role], text)
    return paths


class Runner:
    """Starts each wanted stage once its inputs are done, at most `jobs` at a time; prefixes their output."""

    def __init__(self, plan: dict[str, Stage], wanted: list[str], log_dir: Path, env: dict[str, str], jobs: int):
        self.plan, self.wanted, self.log_dir, self.env, self.jobs = plan, wanted, log_dir, env, max(1, jobs)
        self.lock = threading.Lock()

    def _echo(self, name: str, text: str) -> None:
        with self.lock:
            sys.stdout.write(f"[{name}] {text}\n")
            sys.stdout.flush()

    def _pump(self, name: str, proc: subprocess.Popen) -> None:
        """Tee the stage's output to its log; on screen, every line, and a progress bar's state (redrawn
        with carriage returns) at most every PROGRESS_EVERY seconds, so parallel stages stay readable."""
        assert proc.stdout is not None
        buffer, last_progress = b"", 0.0
        with open(self.log_dir / f"{name}.log", "ab") as log:
            while chunk := proc.stdout.read1(65536):  # type: ignore[attr-defined]
                log.write(chunk)
                log.flush()
                buffer += chunk
                *parts, buffer = re.split(rb"(\r|\n)", buffer)
                for text, end in zip(parts[::2], parts[1::2]):
                    shown = text.decode(errors="replace").rstrip()
                    if not shown.strip():
                        continue
                    if end == b"\n" or time.monotonic() - last_progress >= PROGRESS_EVERY:
                        self._echo(name, shown)
                        last_progress = time.monotonic() if end == b"\r" else last_progress
            if buffer.strip():
                self._echo(name, buffer.decode(errors="replace").rstrip())

    def run(self) -> dict[str, dict[str, float]]:
        """Run the wanted stages; per stage its wall seconds and CPU seconds (user + system of the stage's
        process and the children it waited for: what the stage cost, whatever else shared the cores)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        timings: dict[str, dict[str, float]] = {}
        pending = [s for s in STAGES if s in self.wanted]
        running: dict[str, tuple[subprocess.Popen, threading.Thread, float]] = {}
        finished = {s for s in STAGES if s not in self.wanted or self.plan[s].done.exists()}
        for name in [s for s in pending if self.plan[s].done.exists()]:
            self._echo(name, f"done already ({self.plan[name].done}), skipped")
            pending.remove(name)
            timings[name] = {"wall_s": 0.0, "cpu_s": 0.0}
        try:
            while pending or running:
                for name in list(pending):
                    if len(running) < self.jobs and all(d in finished for d in self.plan[name].after):
                        pending.remove(name)
                        running[name] = self._start(name)
                for name, (proc, pump, started) in list(running.items()):
                    cpu = reap(proc)
                    if cpu is None:
                        continue
                    pump.join()
                    del running[name]
                    if proc.returncode != 0:
                        raise RuntimeError(f"stage {name!r} failed with exit code {proc.returncode}; "
                                           f"see {self.log_dir / f'{name}.log'}")
                    stage = self.plan[name]
                    if stage.done.name.startswith(".done"):
                        atomic_write_text(stage.done, "")
                    elif not stage.done.exists():  # exit 0 is not enough: a stage is done when its marker is
                        raise RuntimeError(f"stage {name!r} exited 0 but did not write {stage.done}, so it did not "
                                           f"finish; see {self.log_dir / f'{name}.log'}")
                    finished.add(name)
                    timings[name] = {"wall_s": round(time.perf_counter() - started, 1), "cpu_s": round(cpu, 1)}
                    self._echo(name, f"finished in {timings[name]['wall_s']:.0f} s ({cpu:.0f} CPU-s)")
                time.sleep(0.2)
        finally:
            for proc, _, _ in running.values():
                proc.terminate()
        return timings

    def _start(self, name: str) -> tuple[subprocess.Popen, threading.Thread, float]:
        cmd = self.plan[name].command.cmd()
        self._echo(name, shlex.join(cmd))
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.env)
        pump = threading.Thread(target=self._pump, args=(name, proc), daemon=True)
        pump.start()
        return proc, pump, time.perf_counter()


def reap(proc: subprocess.Popen) -> float | None:
    """None while `proc` runs; once it has exited, its CPU seconds (it is reaped here, its returncode set)."""
    if proc.returncode is not None:
        return 0.0
    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    if pid == 0:
        return None
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def run(cfg: PipelineConfig) -> dict[str, dict[str, float]]:
    wanted = [s.strip() for s in cfg.stages.split(",") if s.strip()]
    unknown = set(wanted) - set(STAGES)
    if unknown:
        raise ValueError(f"--stages: unknown stage(s) {sorted(unknown)}; choose from {', '.join(STAGES)}")
    env = dict(os.environ)
    env.setdefault("WANDB_MODE", "offline")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env["PYTHONUNBUFFERED"] = "1"
    if cfg.threads:
        env["OMP_NUM_THREADS"] = str(cfg.threads)
    out = Path(cfg.out)
    write_train_configs(cfg)
    timings = Runner(stages(cfg), wanted, out / "logs", env, cfg.jobs).run()
    atomic_write_text(out / "pipeline_timings.json", json.dumps(timings, indent=2) + "\n")
    return timings


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--config" not in argv and not any(a in ("-h", "--help") for a in argv):
        argv = ["--config", str(DEFAULT_CONFIG), *argv]
    cfg = parse_config(PipelineConfig, argv, prog="python -m dreamframe.pipeline", description=__doc__)
    started = time.perf_counter()
    try:
        timings = run(cfg)
    except (RuntimeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    out = Path(cfg.out)
    cpu = sum(t["cpu_s"] for t in timings.values())
    print(f"\nfinished in {time.perf_counter() - started:.0f} s wall, {cpu:.0f} CPU-s in stages: "
          + ", ".join(f"{k} {v['wall_s']:.0f}s/{v['cpu_s']:.0f}cpu" for k, v in timings.items()))
    for what, path in (("dataset", out / "data"), ("shifted held-out set", out / "data_shift"),
                       ("dataset report", out / "report" / "index.html"),
                       ("fine-tuned model", out / "train" / "export"), ("blind control", out / "blind" / "export"),
                       ("order-blind control", out / "order_blind" / "export"),
                       ("eval results", out / "eval"), ("summary", out / "summary.json"),
                       ("leaderboard", out / "leaderboard" / "index.html")):
        print(f"  {what:20s} {path}")
    table = out / "summary.txt"
    if table.exists():
        print("\n" + table.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
