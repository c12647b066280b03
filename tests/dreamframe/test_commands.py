"""The command table (dreamframe/commands.py): every command's argv is what its entry point's own parser
accepts, each option landing in the field of the same name; the pipeline's stages parse too."""

from __future__ import annotations

import dataclasses

import pytest

from dreamframe.commands import (COMMANDS, Command, Evaluate, Generate, Leaderboard, Report, Summarise,
                                 Train)
from launch.pipeline import PipelineConfig, stages, write_train_configs
from tests.conftest import REPO

# one of each command, every option set
SAMPLES: list[Command] = [
    Generate(config=str(REPO / "configs/data_gen/tiny.yaml"), extra=["--seed", "5"], out="runs/x/data",
             num_movies=3, workers=1, shard_index=1, num_shards=2),
    Report(config=None, extra=["--max_movies", "4"], dataset="runs/x/data", out="runs/x/report"),
    Train(config=str(REPO / "configs/train/tiny_cpu.yaml"), extra=["--data.batch_size", "4"], out="runs/x/train",
          max_steps=0, num_nodes=2, devices=4, accelerator="cpu"),
    Evaluate(config=None, extra=["--batch_size", "4"], model="runs/x/train/export", name="tuned",
             base_model="base", tasks="dreamframe_heldout_closed", data_dirs={"dreamframe_heldout": "runs/x/data"},
             out="runs/x/eval"),
    Summarise(config=None, extra=["--models", "{}"], eval="runs/x/eval", data="runs/x/data",
              models={"base": "b", "tuned": "t"}, shift_data="runs/x/data_shift",
              out="runs/x/summary.json"),
    Leaderboard(config=None, extra=["--bootstrap", "0"], results=["runs/x/eval"], out="runs/x/board",
                controls="runs/x/summary.json"),
]


def test_the_samples_cover_every_command_and_option():
    assert {type(s) for s in SAMPLES} == set(COMMANDS.values())
    for sample in SAMPLES:
        unset = [f.name for f in dataclasses.fields(sample) if f.name != "config" and getattr(sample, f.name) in (None, [])]
        assert not unset, f"{type(sample).__name__}: set {unset} in SAMPLES so the parser test covers them"


@pytest.mark.parametrize("command", SAMPLES, ids=lambda c: c.module)
def test_argv_is_accepted_by_the_entry_points_parser(command):
    parsed = command.parse()  # the entry point's own parser: a renamed option exits here naming it
    assert isinstance(parsed, command.config_class())
    for f in dataclasses.fields(command):
        if f.name not in ("config", "extra"):
            assert getattr(parsed, f.name) == getattr(command, f.name), f"--{f.name}"


def test_the_launchers_options_win_over_the_users():
    assert Train(extra=["--max_steps", "3", "--out", "elsewhere"], out="runs/base", max_steps=0).parse().max_steps == 0


def test_importing_the_table_imports_no_room():
    import subprocess
    import sys

    code = ("import sys, dreamframe.commands, launch.pipeline; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'data_gen', 'models', 'training', 'eval'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_pipeline_stage_parses_with_its_entry_points_parser(tmp_path):
    cfg = PipelineConfig(out=str(tmp_path / "run"), data_config=str(REPO / "configs/data_gen/tiny.yaml"),
                         train_config=str(REPO / "configs/train/tiny_cpu.yaml"),
                         train_args=["--max_steps", "3"], eval_args=["--batch_size", "32", "--num_frames", "4"])
    write_train_configs(cfg)
    plan = stages(cfg)
    parsed = {name: stage.command.parse() for name, stage in plan.items()}
    assert parsed["base"].max_steps == 0 and parsed["train"].max_steps == 3
    assert parsed["train_blind"].data.sources[0].frames == "shuffled"
    assert parsed["train_order_blind"].model.frame_order == "content"
    assert parsed["train_order_blind"].data.sources == parsed["train"].data.sources
    assert parsed["eval_tuned"].base_model == cfg.base_name and parsed["eval_base"].base_model is None
    # every model on both held-out sets in one eval.run; the open task for tuned only
    for role in ("base", "blind", "order_blind", "tuned"):
        ev = parsed[f"eval_{role}"]
        assert ev.data_dirs == {"dreamframe_heldout": str(tmp_path / "run" / "data"),
                                "dreamframe_shift": str(tmp_path / "run" / "data_shift")}
        assert {"dreamframe_heldout_closed", "dreamframe_shift_closed", "dreamframe_shift_free"} <= set(ev.tasks.split(","))
        assert ("dreamframe_heldout_open" in ev.tasks) == (role == "tuned")
    assert parsed["summary"].shift_data == str(tmp_path / "run" / "data_shift")
    assert parsed["leaderboard"].controls == str(tmp_path / "run" / "summary.json")


def test_a_misspelt_key_in_the_pipelines_train_config_is_named(tmp_path, capsys):
    bad = tmp_path / "train.yaml"
    bad.write_text((REPO / "configs/train/tiny_cpu.yaml").read_text() + "max_step: 3\n")
    with pytest.raises(SystemExit):
        write_train_configs(PipelineConfig(out=str(tmp_path / "run"), train_config=str(bad)))
    assert "max_step" in capsys.readouterr().err
    assert not (tmp_path / "run" / "configs").exists()


@pytest.mark.parametrize("alias, module", [("dreamframe.pipeline", "launch.pipeline"),
                                           ("training.submit", "launch.submit")])
def test_the_old_entry_points_run_the_launch_rooms(alias, module, tmp_path):
    """`python -m dreamframe.pipeline` is the README's first command: it and `python -m training.submit` run
    launch's modules with their own command line (an option error comes from launch's parser, exit 2)."""
    import subprocess
    import sys

    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    for argv, rc in ((["--help"], 0), (["--no_such_option", "1"], 2)):
        old, new = (subprocess.run([sys.executable, "-m", m, *argv], cwd=tmp_path, env=env, capture_output=True,
                                   text=True, timeout=60) for m in (alias, module))
        assert old.returncode == new.returncode == rc, old.stderr
        assert old.stdout == new.stdout and old.stderr.replace(alias, module) == new.stderr.replace(alias, module)
