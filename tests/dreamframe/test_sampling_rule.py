"""The frame sampling rule is an enum checked when the command line is parsed: a misspelt rule stops every
entry point that takes one before any work starts (exit 2, the option and the valid rules named)."""

from __future__ import annotations

import importlib

import pytest

from dreamframe.config import from_dict
from dreamframe.frames import SAMPLING_RULES
from models.base import ModelConfig

# (entry point module, the function doing its work, the option naming a rule)
ENTRY_POINTS = [
    ("data_gen.generate", "generate", "--frame_sampling"),
    ("data_gen.export", "export", "--frame_sampling"),
    ("training.train", "run", "--model.frame_sampling"),
    ("training.plan", "plan", "--model.frame_sampling"),
    ("models.export", "export", "--model.frame_sampling"),
    ("eval.run", "run", "--frame_sampling"),
]


@pytest.mark.parametrize("module,work,option", ENTRY_POINTS, ids=[e[0] for e in ENTRY_POINTS])
def test_misspelt_rule_refused_at_parse_time(module, work, option, monkeypatch, capsys):
    mod = importlib.import_module(module)

    def started(*_args, **_kwargs):
        raise AssertionError(f"{module} started work with a misspelt sampling rule")

    monkeypatch.setattr(mod, work, started)
    with pytest.raises(SystemExit) as exit_info:
        mod.main([option, "segment_centr"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "segment_centr" in err and option.lstrip("-") in err
    assert all(rule in err for rule in SAMPLING_RULES)


@pytest.mark.parametrize("module,work,option", ENTRY_POINTS, ids=[e[0] for e in ENTRY_POINTS])
def test_every_rule_is_accepted(module, work, option, monkeypatch):
    mod = importlib.import_module(module)
    seen = []
    monkeypatch.setattr(mod, work, lambda cfg, *a, **k: seen.append(cfg) or (_ for _ in ()).throw(SystemExit(0)))
    for rule in SAMPLING_RULES:
        with pytest.raises(SystemExit):
            mod.main([option, rule])
    got = [cfg.model.frame_sampling if option.startswith("--model.") else cfg.frame_sampling for cfg in seen]
    assert got == list(SAMPLING_RULES)


def test_yaml_and_saved_configs_are_checked_too():
    """A model folder's saved config (dreamframe_model.json) or a YAML read without the parser is checked the same."""
    with pytest.raises(ValueError, match="frame_sampling: 'segment_centr' is not one of"):
        from_dict(ModelConfig, {"frame_sampling": "segment_centr"})
    assert from_dict(ModelConfig, {"frame_sampling": "videochat2"}).frame_sampling == "videochat2"
