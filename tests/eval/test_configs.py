"""configs/eval/*.yaml load through EvalConfig (a stale key fails), and default.yaml equals the dataclass."""

from __future__ import annotations

from pathlib import Path

import pytest

from dreamframe.config import from_dict, load_yaml, to_dict
from eval.run import EvalConfig, main

CONFIGS = sorted((Path(__file__).parents[2] / "configs" / "eval").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_loads(path):
    cfg = from_dict(EvalConfig, {**to_dict(EvalConfig()), **load_yaml(str(path))})
    assert isinstance(cfg, EvalConfig)


def test_default_yaml_equals_dataclass():
    assert load_yaml(str(Path(__file__).parents[2] / "configs/eval/default.yaml")) == to_dict(EvalConfig())


def test_unknown_task_is_a_clear_error(tmp_path, capsys):
    assert main(["--tasks", "mvbench_nope", "--data-root", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "unknown task 'mvbench_nope'" in capsys.readouterr().err


def test_stale_key_fails(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("taskz: mvbench\n")
    with pytest.raises(SystemExit):
        main(["--config", str(bad)])


def test_list_tasks_is_the_registry(capsys):
    import json

    assert main(["--list-tasks"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed["mvbench"]) == 20 and "mvbench_episodic_reasoning" in listed["mvbench"]
    assert listed["dreamframe_heldout"] == ["dreamframe_heldout_closed", "dreamframe_heldout_free",
                                            "dreamframe_heldout_open"]


def test_registered_with_lm_eval():
    from lm_eval.api.registry import get_model

    from eval.lm import DreamFrameLM

    assert get_model("dreamframe") is DreamFrameLM and DreamFrameLM.MULTIMODAL
