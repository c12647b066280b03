"""Submit training, data generation and eval to Slurm: render an sbatch script, save it with the resolved
job config, submit it, print the job id.

    python -m launch.submit --config configs/train/tiny_cpu.yaml --nodes 2 --gpus-per-node 8 \\
        --cluster configs/slurm/infiniband_8gpu.yaml --partition gpu --time 2-00:00:00 --dry-run
    python -m launch.submit --config configs/data_gen/tiny.yaml --array 8 -- --out runs/data/big --num_movies 800
    python -m launch.submit --config configs/eval/<name>.yaml --array 4

`--config` is the JOB's YAML: its folder (configs/train, configs/data_gen, configs/eval) picks the command
(python -m training.train, data_gen.generate, eval.run), or say `--job`. `--cluster` is a configs/slurm/
layout YAML holding any of the options below. Arguments after `--` are overrides for the job's command.
(In the option list below, `--config CONFIG` is that layout file, i.e. --cluster, and `--job_config` is
the job's YAML, i.e. --config.)

Each submission writes <run_dir>/<job_name>-<UTC time>/ with job.sbatch, config.yaml (the job config
resolved by the job's own parser, so a bad key fails here and not after hours in the queue) and logs/.
Training asks for USR1 `signal_seconds` before the time limit and is requeueable: Lightning's
SLURMEnvironment saves an hpc checkpoint and requeues the job, which resumes from it. Data generation
runs as an array (shard i of k, one dataset folder) followed by a finalize job that fills any gap and
writes the complete manifest; eval runs as an array of shards writing one results folder.
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dreamframe.commands import COMMANDS, Train
from dreamframe.config import parse_config

JOB_KINDS = ("train", "generate", "eval")
JOB_MODULES = {kind: COMMANDS[kind].module for kind in JOB_KINDS}
"""The module each job kind runs (python -m <module>), from the command table (dreamframe/commands.py)."""
CONFIG_DIRS = {"train": "train", "data_gen": "generate", "eval": "eval"}
"""configs/<folder>/ -> job kind, for `--job auto`."""
TEMPLATES = Path(__file__).with_name("slurm")


class SubmitError(ValueError):
    """Bad submit options or job config; the message names the option or file."""


# What a value rendered into an `#SBATCH` line may hold: a line break would end the directive and start a
# line that bash runs. Names follow Slurm's (partition lists are comma-separated).
SLURM_NAME = r"[A-Za-z0-9_.+-]+"
SBATCH_VALUES = {
    "partition": rf"{SLURM_NAME}(,{SLURM_NAME})*",
    "account": SLURM_NAME,
    "qos": SLURM_NAME,
    "job_name": SLURM_NAME,
    "mem": r"\d+(\.\d+)?[KMGT]?",
    "constraint": r"[A-Za-z0-9_.+\-&|,\[\]*:()!]+",
    "dependency": r"[A-Za-z_]+(:[0-9_+]+)+([,?][A-Za-z_]+(:[0-9_+]+)+)*|singleton",
}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ShellVar(str):
    """A command-line value the job script reads from a shell variable, e.g. ShellVar("SLURM_ARRAY_TASK_ID")
    renders as "${SLURM_ARRAY_TASK_ID}" where every other value is quoted literally."""


@dataclass
class SubmitConfig:
    """Render an sbatch script for a DreamFrame job, save it beside the resolved job config, and submit it."""

    job_config: str | None = None
    """The job's YAML (given as --config): a configs/train, configs/data_gen or configs/eval file."""
    job: Literal["auto", "train", "generate", "eval"] = "auto"
    """Job kind; `auto` reads it from the --config file's folder name."""
    nodes: int = 1
    """Nodes (training only; array tasks use one node each)."""
    gpus_per_node: int = 0
    """GPUs per node; one task per GPU. 0 runs on CPU with `cpu_tasks_per_node` tasks per node."""
    cpu_tasks_per_node: int = 1
    """Tasks per node when gpus_per_node is 0."""
    cpus_per_task: int = 2
    """CPU cores per task (data-loader workers, generation workers); also OMP_NUM_THREADS."""
    mem: str | None = None
    """Memory per node, e.g. `64G`; `0` asks for all of it; None leaves the cluster default."""
    partition: str | None = None
    """Slurm partition (-p)."""
    account: str | None = None
    """Slurm account (-A)."""
    qos: str | None = None
    """Slurm quality of service."""
    time: str | None = "24:00:00"
    """Time limit ([D-]HH:MM:SS, MM:SS or minutes); None leaves the partition default."""
    constraint: str | None = None
    """Node feature constraint (-C), e.g. `a100-80gb`."""
    exclusive: bool = False
    """Ask for whole nodes."""
    array: int = 0
    """Shards of a data-generation or eval job array (0: one shard)."""
    array_parallel: int | None = None
    """At most this many array tasks at once (the %N throttle)."""
    job_name: str | None = None
    """Slurm job name; default df-<job>-<config name>."""
    run_dir: str = "runs/slurm"
    """Each submission writes <run_dir>/<job_name>-<UTC time>/{job.sbatch, config.yaml, logs/}."""
    signal_seconds: int = 90
    """Training: send USR1 this many seconds before the time limit (checkpoint + requeue)."""
    requeue: bool = True
    """Training: let the job be requeued (after preemption, node failure, or the USR1 checkpoint)."""
    python: str | None = None
    """Python interpreter on the compute nodes; default: the one running this command."""
    setup: list[str] = field(default_factory=list)
    """Shell lines run before the job, e.g. `module load cuda/12.4`, `source .venv/bin/activate`."""
    env: dict[str, str] = field(default_factory=lambda: {
        "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1",
        "NCCL_DEBUG": "WARN", "TORCH_NCCL_ASYNC_ERROR_HANDLING": "1",
    })
    """Environment exported in the job (NCCL / network settings of the cluster layout go here)."""
    extra_sbatch: list[str] = field(default_factory=list)
    """More #SBATCH options, e.g. `--reservation=x` or `--gres=gpu:a100:8`."""
    dependency: str | None = None
    """Start after other jobs, e.g. `afterok:1234`."""
    dry_run: bool = False
    """Write and print the script(s) without submitting."""


@dataclass
class Rendered:
    """One sbatch script to submit; `after` names an earlier script this one waits for (afterany)."""

    name: str
    text: str
    after: str | None = None


def split_argv(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split off the job overrides after `--`, and accept a bare `--dry-run` flag."""
    argv = list(argv)
    job_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, job_args = argv[:cut], argv[cut + 1:]
    out = []
    for i, arg in enumerate(argv):
        bare = arg in ("--dry-run", "--dry_run") and (i + 1 == len(argv) or argv[i + 1].startswith("--"))
        out.append("--dry_run=true" if bare else arg)
    return out, job_args


def parse_args(argv: Sequence[str] | None = None) -> tuple[SubmitConfig, list[str]]:
    args, job_args = split_argv(sys.argv[1:] if argv is None else argv)
    cfg = parse_config(SubmitConfig, args, prog="python -m launch.submit", description=__doc__,
                       aliases={"config": "job_config", "cluster": "config"})
    return cfg, job_args


def job_kind(cfg: SubmitConfig) -> str:
    if not cfg.job_config:
        raise SubmitError("--config is required: the job's YAML (configs/train/..., configs/data_gen/..., ...)")
    if not Path(cfg.job_config).is_file():
        raise SubmitError(f"--config {cfg.job_config}: file not found")
    if cfg.job != "auto":
        return cfg.job
    folder = Path(cfg.job_config or "").resolve().parent.name
    if folder not in CONFIG_DIRS:
        raise SubmitError(f"--config {cfg.job_config}: cannot tell the job from folder {folder!r} "
                          f"(expected configs/{{{','.join(CONFIG_DIRS)}}}/); pass --job train|generate|eval")
    return CONFIG_DIRS[folder]


def time_seconds(value: str) -> int:
    """Slurm time limit -> seconds; accepts M, M:S, H:M:S, D-H, D-H:M, D-H:M:S."""
    m = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", value.strip())
    if not m:
        raise SubmitError(f"--time {value!r}: expected [D-]HH:MM:SS, MM:SS or minutes")
    days, a, b, c = (int(x) if x else None for x in m.groups())
    if days is not None:
        return days * 86400 + a * 3600 + (b or 0) * 60 + (c or 0)
    if c is not None:
        return a * 3600 + b * 60 + c
    return a * 60 + (b or 0)


def validate(cfg: SubmitConfig, kind: str) -> None:
    if cfg.nodes < 1 or cfg.gpus_per_node < 0 or cfg.cpus_per_task < 1 or cfg.cpu_tasks_per_node < 1:
        raise SubmitError("--nodes, --cpus-per-task and --cpu-tasks-per-node must be >= 1, --gpus-per-node >= 0")
    if kind == "train" and cfg.array:
        raise SubmitError("--array is for data generation and eval; training runs as one multi-node job")
    if kind != "train" and cfg.nodes != 1:
        raise SubmitError(f"--nodes {cfg.nodes}: {kind} jobs run one node per array task; use --array")
    if cfg.array < 0 or (cfg.array_parallel is not None and cfg.array_parallel < 1):
        raise SubmitError("--array must be >= 0 and --array-parallel >= 1")
    if cfg.time is not None and kind == "train" and cfg.requeue and time_seconds(cfg.time) <= cfg.signal_seconds:
        raise SubmitError(f"--time {cfg.time} is not longer than --signal-seconds {cfg.signal_seconds}")
    name = cfg.job_name or ""
    if name in ("bash", "interactive"):
        raise SubmitError(f"--job-name {name!r}: Lightning ignores SLURM for jobs with this name")
    if cfg.time is not None:
        time_seconds(cfg.time)
    for option, pattern in SBATCH_VALUES.items():
        value = getattr(cfg, option)
        if value is not None and not re.fullmatch(pattern, str(value)):
            raise SubmitError(f"--{option.replace('_', '-')} {value!r}: not a valid Slurm value "
                              f"(allowed: {pattern})")
    for key in cfg.env:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise SubmitError(f"--env: {key!r} is not a valid environment variable name")
    for line in cfg.extra_sbatch:
        if not line.startswith("-"):
            raise SubmitError(f"--extra-sbatch {line!r}: each entry is one sbatch option, e.g. --reservation=x")
    single_line = {"--setup": cfg.setup, "--extra-sbatch": cfg.extra_sbatch, "--env": list(cfg.env.values()),
                   "--python": [cfg.python or ""], "--run-dir": [cfg.run_dir]}
    for option, values in single_line.items():
        for value in values:
            if CONTROL.search(value):
                raise SubmitError(f"{option} {value!r}: a line break or control character would become a "
                                  "line of its own in the job script")


def layout(cfg: SubmitConfig, kind: str) -> dict[str, object]:
    """Tasks and devices the allocation gives each node."""
    gpu = kind == "train" and cfg.gpus_per_node > 0
    tasks = cfg.gpus_per_node if gpu else (cfg.cpu_tasks_per_node if kind == "train" else 1)
    return {"nodes": cfg.nodes, "tasks_per_node": tasks, "gpus_per_node": cfg.gpus_per_node,
            "devices": tasks, "accelerator": "gpu" if gpu else "cpu"}


def job_command_args(cfg: SubmitConfig, kind: str, job_args: list[str]) -> list[str]:
    """Overrides baked into the saved config: the user's (after --), then for training the allocation's
    num_nodes, devices and accelerator, so Lightning matches what Slurm gave the job."""
    if kind != "train":
        return list(job_args)
    place = layout(cfg, kind)
    return Train(extra=list(job_args), num_nodes=place["nodes"], devices=place["devices"],
                 accelerator=place["accelerator"]).argv()


def resolve_job_config(cfg: SubmitConfig, kind: str, python: str, args: list[str]) -> tuple[str, bool]:
    """The job config as the job's own parser resolves it (YAML text), and whether that parser exists.

    When the job's module is not installed yet (e.g. eval on an older checkout), the YAML is saved as
    given and the overrides are passed on the job's command line instead.
    """
    module = JOB_MODULES[kind]
    if importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec(module) is None:
        return Path(cfg.job_config).read_text(encoding="utf-8"), False
    cmd = [python, "-m", module, *COMMANDS[kind](config=cfg.job_config, extra=args).argv(), "--print_config"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SubmitError(f"--config {cfg.job_config}: python -m {module} rejected the job config:\n"
                          f"{proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout, True


def check_resolved(kind: str, resolved: str, parsed: bool) -> list[str]:
    """Catch settings that would only fail once the job starts; returns the eval task list (eval jobs)."""
    import yaml

    data = yaml.safe_load(resolved) or {}
    if kind == "generate" and parsed and not data.get("out"):
        raise SubmitError("data generation needs an output folder: set `out` in the YAML or pass `-- --out DIR`")
    tasks = data.get("tasks") if kind == "eval" else None
    if isinstance(tasks, str):
        tasks = tasks.split(",")
    return [str(t).strip() for t in tasks or [] if str(t).strip()]


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["q"] = lambda v: f'"${{{v}}}"' if isinstance(v, ShellVar) else shlex.quote(str(v))
    env.finalize = _one_line
    return env


def _one_line(value: object) -> object:
    """Every value the templates render (validated options, job overrides, paths) stays on its line:
    a newline inside one would start a shell line in the script, quoted or not."""
    if isinstance(value, str) and CONTROL.search(value):
        raise SubmitError(f"{value!r}: a line break or control character cannot go into a job script")
    return value


def render(cfg: SubmitConfig, kind: str, job_dir: Path, workdir: Path, python: str,
           command_args: Sequence[str] = (), shard_tasks: Sequence[str] | None = None) -> list[Rendered]:
    """The sbatch script(s) for this job. `command_args` go on the job's command line (unresolved configs);
    an eval array task i runs the benchmarks in `shard_tasks[i]`."""
    env = _environment()
    shards = max(cfg.array, 1)

    def command(**options: object) -> list[str]:
        job = COMMANDS[kind](config=str(job_dir / "config.yaml"), extra=list(command_args), **options)
        return [python, "-m", JOB_MODULES[kind], *job.argv()]

    common = {"cfg": cfg, "kind": kind, "job_dir": str(job_dir), "workdir": str(workdir), "shards": shards,
              "job_name": cfg.job_name or default_job_name(cfg, kind), "command": command(), "prepare": None,
              "shard_tasks": list(shard_tasks or []), **layout(cfg, kind)}
    if kind == "train":
        return [Rendered("job.sbatch", env.get_template("train.sbatch.jinja").render(**common))]
    array = env.get_template("array.sbatch.jinja")
    if kind == "eval":
        shard = command(tasks=ShellVar("SHARD_TASKS[${SLURM_ARRAY_TASK_ID}]")) if shard_tasks else command()
        return [Rendered("job.sbatch", array.render({**common, "finalize": False, "shard": shard}))]
    workers = ShellVar("SLURM_CPUS_PER_TASK")
    # the first task creates (or checks) the dataset folder, writing no movie; then every task its shard
    prepare = command(num_movies=0, workers=1)
    shard = command(workers=workers, shard_index=ShellVar("SLURM_ARRAY_TASK_ID"), num_shards=shards)
    return [Rendered("job.sbatch", array.render({**common, "finalize": False, "prepare": prepare, "shard": shard})),
            Rendered("finalize.sbatch", array.render({**common, "finalize": True, "shard": command(workers=workers)}),
                     after="job.sbatch")]


def split_tasks(tasks: Sequence[str], shards: int) -> list[str] | None:
    """Eval shards: round-robin share of the benchmark list per array task (comma-joined), None for one shard."""
    if shards <= 1:
        return None
    if len(tasks) < shards:
        raise SubmitError(f"--array {shards}: the eval config lists only {len(tasks)} task(s) ({','.join(tasks)}); "
                          "an eval array splits the task list, so use at most that many shards")
    return [",".join(tasks[i::shards]) for i in range(shards)]


def default_job_name(cfg: SubmitConfig, kind: str) -> str:
    return f"df-{kind}-{Path(cfg.job_config or 'job').stem}"


def new_job_dir(cfg: SubmitConfig, kind: str) -> Path:
    """<run_dir>/<job name>-<UTC time>; created only once its scripts rendered."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    return Path(cfg.run_dir).resolve() / f"{cfg.job_name or default_job_name(cfg, kind)}-{stamp}"


def sbatch(script: Path, dependency: str | None = None) -> str:
    """Submit with sbatch; returns the job id."""
    cmd = ["sbatch", "--parsable", *([f"--dependency={dependency}"] if dependency else []), str(script)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SubmitError(f"sbatch {script} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip().split(";")[0]


def submit(cfg: SubmitConfig, job_args: Sequence[str] = ()) -> tuple[Path, list[tuple[str, str | None]]]:
    """Write the job folder and submit its scripts. Returns (job folder, [(script name, job id or None)])."""
    kind = job_kind(cfg)
    validate(cfg, kind)
    python = cfg.python or sys.executable
    args = job_command_args(cfg, kind, list(job_args))
    resolved, parsed = resolve_job_config(cfg, kind, python, args)
    eval_tasks = check_resolved(kind, resolved, parsed)
    shard_tasks = split_tasks(eval_tasks, max(cfg.array, 1)) if kind == "eval" else None
    job_dir = new_job_dir(cfg, kind)
    scripts = render(cfg, kind, job_dir, Path.cwd(), python, command_args=[] if parsed else args,
                     shard_tasks=shard_tasks)
    # looked for only now: every option and the job config are checked the same on any machine
    if not cfg.dry_run and shutil.which("sbatch") is None:
        raise SubmitError("sbatch not found on PATH: run on a Slurm login node, or use --dry-run")
    (job_dir / "logs").mkdir(parents=True, exist_ok=False)
    (job_dir / "config.yaml").write_text(resolved, encoding="utf-8")
    ids: dict[str, str] = {}
    submitted: list[tuple[str, str | None]] = []
    for script in scripts:
        path = job_dir / script.name
        path.write_text(script.text, encoding="utf-8")
        path.chmod(0o755)
        if cfg.dry_run:
            submitted.append((script.name, None))
            continue
        dependency = f"afterany:{ids[script.after]}" if script.after else cfg.dependency
        ids[script.name] = sbatch(path, dependency)
        submitted.append((script.name, ids[script.name]))
    return job_dir, submitted


def main(argv: Sequence[str] | None = None) -> int:
    cfg, job_args = parse_args(argv)
    try:
        job_dir, submitted = submit(cfg, job_args)
    except SubmitError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for name, job_id in submitted:
        if job_id is None:
            print(f"# ---- {job_dir / name} (dry run: not submitted; `sbatch {job_dir / name}` submits it)")
            print((job_dir / name).read_text(encoding="utf-8"))
        else:
            print(f"{job_id} {job_dir / name}")
    if not cfg.dry_run:
        print(f"logs: {job_dir / 'logs'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
