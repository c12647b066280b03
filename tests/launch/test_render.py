"""Rendered scripts and options, without a cluster: what srun and Lightning need, and clear errors."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dreamframe.config import from_dict, load_yaml, to_dict
from tests.conftest import REPO
from launch import submit as S

TRAIN_YAML = "configs/train/tiny_cpu.yaml"


def dry_run(tmp_path, *args: str) -> tuple[Path, str]:
    """The real CLI with --dry-run; returns (job folder, printed text)."""
    cmd = [sys.executable, "-m", "launch.submit", "--dry-run", "--run_dir", str(tmp_path), *args]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    (job_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    return job_dir, proc.stdout


def sbatch_options(script: str) -> dict[str, str]:
    opts = {}
    for line in script.splitlines():
        if line.startswith("#SBATCH "):
            key, _, value = line[len("#SBATCH "):].partition("=")
            assert key not in opts, f"{key} given twice"
            opts[key] = value
    return opts


def test_two_nodes_by_eight_gpus_matches_srun_and_lightning(tmp_path, monkeypatch):
    job_dir, printed = dry_run(tmp_path, "--config", TRAIN_YAML, "--nodes", "2", "--gpus-per-node", "8",
                               "--partition", "gpu", "--account", "proj", "--time", "2-00:00:00")
    script = (job_dir / "job.sbatch").read_text()
    assert script in printed
    subprocess.run(["bash", "-n", str(job_dir / "job.sbatch")], check=True)  # valid shell

    opts = sbatch_options(script)
    assert opts["--nodes"] == "2" and opts["--ntasks-per-node"] == "8" and opts["--gpus-per-node"] == "8"
    # Lightning rejects --ntasks without --ntasks-per-node, and needs every task to see all node GPUs.
    assert not {"--ntasks", "--gpus-per-task", "--gpus", "--gpu-bind"} & set(opts)
    assert opts["--signal"] == "USR1@90" and "--requeue" in opts and opts["--open-mode"] == "append"
    assert opts["--partition"] == "gpu" and opts["--account"] == "proj" and opts["--time"] == "2-00:00:00"
    assert "%j" in opts["--output"] and opts["--output"].startswith(str(job_dir / "logs"))
    assert opts["--job-name"] not in ("bash", "interactive")  # Lightning would ignore SLURM
    assert opts["--chdir"] == str(REPO)
    srun = [line for line in script.splitlines() if line.lstrip().startswith("srun")]
    assert len(srun) == 1 and f"-m training.train --config {job_dir / 'config.yaml'}" in srun[0]
    assert not re.search(r"--ntasks|-n \d", srun[0])
    assert 'export SRUN_CPUS_PER_TASK="${SLURM_CPUS_PER_TASK}"' in script
    assert "export MASTER_ADDR=" in script and "NCCL_DEBUG=WARN" in script

    # The saved config is the training parser's own resolution, with Lightning matching the allocation.
    from training.config import TrainConfig

    train = from_dict(TrainConfig, load_yaml(job_dir / "config.yaml"))
    assert (train.num_nodes, train.devices, train.accelerator) == (2, 8, "gpu")

    # What each of the 16 tasks sees under srun, checked by Lightning's own SLURM environment and Trainer.
    from lightning.pytorch import Trainer
    from lightning.pytorch.plugins.environments import SLURMEnvironment

    for key, value in {"SLURM_NTASKS": "16", "SLURM_NTASKS_PER_NODE": "8", "SLURM_NNODES": "2",
                       "SLURM_PROCID": "13", "SLURM_LOCALID": "5", "SLURM_NODEID": "1", "SLURM_JOB_ID": "4242",
                       "SLURM_JOB_NAME": opts["--job-name"], "SLURM_NODELIST": "gpu[01-02]"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.delenv("MASTER_PORT", raising=False)
    assert SLURMEnvironment.detect()
    env = SLURMEnvironment(auto_requeue=True)
    env.validate_settings(num_devices=train.devices, num_nodes=train.num_nodes)
    assert (env.world_size(), env.global_rank(), env.local_rank(), env.node_rank()) == (16, 13, 5, 1)
    assert env.main_address == "gpu01" and env.main_port == 15000 + 4242 % 10000
    # Trainer wiring (CPU stands in for the GPUs here): it picks SLURM and accepts the layout.
    trainer = Trainer(accelerator="cpu", devices=train.devices, num_nodes=train.num_nodes, strategy="ddp",
                      logger=False, enable_checkpointing=False, enable_progress_bar=False)
    assert isinstance(trainer.strategy.cluster_environment, SLURMEnvironment)
    assert (trainer.world_size, trainer.global_rank, trainer.local_rank) == (16, 13, 5)
    with pytest.raises(ValueError, match="ntasks-per-node"):  # a mismatch is caught: the check can fail
        env.validate_settings(num_devices=4, num_nodes=2)


def test_generation_array_script(tmp_path):
    out = tmp_path / "data"
    job_dir, _ = dry_run(tmp_path / "runs", "--config", "configs/data_gen/tiny.yaml", "--array", "3",
                         "--array-parallel", "2", "--gpus-per-node", "1", "--", "--out", str(out))
    script, final = (job_dir / "job.sbatch").read_text(), (job_dir / "finalize.sbatch").read_text()
    for path in ("job.sbatch", "finalize.sbatch"):
        subprocess.run(["bash", "-n", str(job_dir / path)], check=True)
    opts = sbatch_options(script)
    assert opts["--array"] == "0-2%2" and opts["--gpus-per-node"] == "1" and "%A_%a" in opts["--output"]
    assert '--shard_index "${SLURM_ARRAY_TASK_ID}" --num_shards 3' in script
    assert "flock" in script and "--num_movies 0" in script
    assert "--array" not in sbatch_options(final) and "--shard_index" not in final
    assert load_yaml(job_dir / "config.yaml")["out"] == str(out)


def test_eval_array_renders_even_without_eval_run(tmp_path, monkeypatch):
    """eval.run may land later: the YAML is saved as given and overrides go on the command line."""
    monkeypatch.setitem(S.JOB_MODULES, "eval", "eval.no_such_module")
    job_yaml = tmp_path / "configs" / "eval" / "mvbench.yaml"
    job_yaml.parent.mkdir(parents=True)
    job_yaml.write_text("tasks: mvbench,tempcompass,videomme\n")
    cfg = from_dict(S.SubmitConfig, {"job_config": str(job_yaml), "array": 2, "dry_run": True,
                                     "run_dir": str(tmp_path / "runs")})
    job_dir, submitted = S.submit(cfg, ["--model", "runs/train/x/export"])
    assert submitted == [("job.sbatch", None)]
    script = (job_dir / "job.sbatch").read_text()
    assert "-m eval.no_such_module --config" in script and "--model runs/train/x/export" in script
    assert sbatch_options(script)["--array"] == "0-1"
    assert (job_dir / "config.yaml").read_text() == "tasks: mvbench,tempcompass,videomme\n"
    assert "SHARD_TASKS=(mvbench,videomme tempcompass)" in script
    assert '--tasks "${SHARD_TASKS[${SLURM_ARRAY_TASK_ID}]}"' in script
    subprocess.run(["bash", "-n", str(job_dir / "job.sbatch")], check=True)


def test_eval_array_splits_benchmarks_over_shards(tmp_path):
    """With the real eval.run parser: array task i runs the i-th share of --tasks, all into one --out."""
    job_dir, _ = dry_run(tmp_path / "runs", "--config", "configs/eval/tiny_cpu.yaml", "--array", "2", "--",
                         "--tasks", "dreamframe_heldout,mvbench,tempcompass", "--out", str(tmp_path / "ev"))
    script = (job_dir / "job.sbatch").read_text()
    assert sbatch_options(script)["--array"] == "0-1"
    assert "SHARD_TASKS=(dreamframe_heldout,tempcompass mvbench)" in script
    assert f"-m eval.run --config {job_dir / 'config.yaml'}" in script
    resolved = load_yaml(job_dir / "config.yaml")
    assert resolved["out"] == str(tmp_path / "ev") and resolved["model"] == "tiny-llava_onevision"
    # Bash hands array task 1 its share: run the script's own array line.
    (line,) = [ln for ln in script.splitlines() if ln.startswith("SHARD_TASKS=")]
    share = subprocess.run(["bash", "-c", line + '; echo "${SHARD_TASKS[${SLURM_ARRAY_TASK_ID}]}"'],
                           env={"SLURM_ARRAY_TASK_ID": "1"}, capture_output=True, text=True).stdout.strip()
    assert share == "mvbench"


@pytest.mark.parametrize("args, message", [
    (["--config", "configs/data_gen/tiny.yaml"], "needs an output folder"),
    (["--config", "nope.yaml"], "nope.yaml: file not found"),
    (["--config", TRAIN_YAML, "--array", "2"], "--array is for data generation"),
    (["--config", TRAIN_YAML, "--time", "1:00", "--signal-seconds", "90"], "not longer than --signal-seconds"),
    (["--config", TRAIN_YAML, "--time", "two days"], "--time 'two days'"),
    (["--config", TRAIN_YAML, "--job-name", "interactive"], "Lightning ignores SLURM"),
    (["--config", TRAIN_YAML, "--", "--no_such_key", "1"], "rejected the job config"),
    (["--config", "configs/eval/tiny_cpu.yaml", "--array", "2"], "lists only 1 task(s)"),
])
def test_bad_options_fail_before_anything_is_written(tmp_path, args, message):
    """Issue 22: every option and the job config are checked before sbatch is looked for, so the same bad
    option gives the same error on a Slurm login node (a stand-in sbatch on PATH) and on a laptop (none)."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sbatch").write_text(f"#!/bin/sh\ntouch {tmp_path / 'sbatch-was-called'}\necho 1234\n")
    (fake / "sbatch").chmod(0o755)
    errors = []
    for path in (str(fake), str(tmp_path / "no-such-dir")):
        proc = submit_cli(tmp_path, path, *args)
        assert proc.returncode == 2 and message in proc.stderr, f"PATH={path}: {proc.stderr}"
        errors.append(proc.stderr)
    assert errors[0] == errors[1]
    assert not (tmp_path / "runs").exists() and not (tmp_path / "sbatch-was-called").exists()


def submit_cli(tmp_path: Path, path: str, *args: str) -> subprocess.CompletedProcess:
    """`python -m launch.submit` writing under tmp_path/runs, with PATH set to `path` only."""
    cmd = [sys.executable, "-m", "launch.submit", "--run_dir", str(tmp_path / "runs"), *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": path})


def test_without_sbatch_nothing_is_written(tmp_path):
    proc = submit_cli(tmp_path, "/nonexistent", "--config", TRAIN_YAML)
    assert proc.returncode == 2 and "sbatch not found" in proc.stderr, proc.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("value, seconds", [("90", 5400), ("1:30", 90), ("01:00:00", 3600), ("2-00", 172800),
                                            ("1-02:03", 93780), ("1-00:00:05", 86405)])
def test_time_limits(value, seconds):
    assert S.time_seconds(value) == seconds


def test_cluster_layouts_load_through_the_dataclass():
    layouts = sorted((REPO / "configs/slurm").glob("*.yaml"))
    assert len(layouts) >= 4
    for path in layouts:
        cfg, _ = S.parse_args(["--cluster", str(path)])
        assert isinstance(cfg, S.SubmitConfig), path
        from_dict(S.SubmitConfig, load_yaml(path))  # unknown keys fail by name
    assert load_yaml(REPO / "configs/slurm/default.yaml") == to_dict(S.SubmitConfig())


def test_help_is_instant_and_lists_options():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "launch.submit", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--gpus_per_node" in proc.stdout and "--cluster" in proc.stdout
    heavy = [m for m in ("torch", "lightning", "transformers") if re.search(rf"\| {m}$", proc.stderr, re.M)]
    assert heavy == []


@pytest.mark.parametrize("args, message", [
    (["--partition", "gpu\ntouch /tmp/pwned"], "--partition 'gpu\\ntouch /tmp/pwned': not a valid Slurm value"),
    (["--partition", "gpu;touch /tmp/pwned"], "--partition 'gpu;touch /tmp/pwned'"),
    (["--account", "$(touch /tmp/pwned)"], "--account '$(touch /tmp/pwned)'"),
    (["--qos", "normal`id`"], "--qos 'normal`id`'"),
    (["--mem", "64G\nid"], "--mem '64G\\nid'"),
    (["--constraint", "a100\nid"], "--constraint 'a100\\nid'"),
    (["--job-name", "a b"], "--job-name 'a b'"),
    (["--dependency", "afterok:1\nid"], "--dependency 'afterok:1\\nid'"),
    (["--extra_sbatch", '["--reservation=x\\nid"]'], "a line break or control character"),
    (["--setup", '["module load cuda\\nid"]'], "--setup"),
    (["--env", '{"NCCL_DEBUG": "WARN\\nid"}'], "--env"),
    (["--python", "python\nid"], "--python"),
])
def test_no_option_value_becomes_a_shell_line(tmp_path, args, message):
    """Issue 12: a newline or shell metacharacter in any option rendered into the script is refused, by
    name, before anything is written (it used to become a line that sbatch runs)."""
    cmd = [sys.executable, "-m", "launch.submit", "--dry-run", "--run_dir", str(tmp_path / "runs"),
           "--config", TRAIN_YAML, *args]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert not (tmp_path / "runs").exists()


def test_every_rendered_value_stays_on_its_line(tmp_path):
    """The template-level backstop: even a value no validator knows of (here a job override rendered onto
    the command line when the job's module cannot resolve the config) cannot add a line."""
    cfg = S.SubmitConfig(job_config=TRAIN_YAML)
    with pytest.raises(S.SubmitError, match="line break"):
        S.render(cfg, "train", tmp_path, REPO, sys.executable, command_args=["--out=/x\ntouch /tmp/pwned"])
    text = S.render(cfg, "train", tmp_path, REPO, sys.executable, command_args=["--out=/x y;$(id)"])[0].text
    assert "'--out=/x y;$(id)'" in text  # quoted: one argument, nothing run


def test_valid_slurm_values_pass(tmp_path):
    job_dir, _ = dry_run(tmp_path, "--config", TRAIN_YAML, "--partition", "gpu,gpu-long", "--account", "proj_1.a",
                         "--qos", "high", "--mem", "64G", "--constraint", "a100&ib", "--dependency", "afterok:12:13")
    opts = sbatch_options((job_dir / "job.sbatch").read_text())
    assert opts["--partition"] == "gpu,gpu-long" and opts["--constraint"] == "a100&ib" and opts["--mem"] == "64G"
