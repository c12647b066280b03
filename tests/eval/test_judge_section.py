"""The judge is one typed section (eval.judges.JudgeConfig), resolved, checked and built by `eval.run` before
any task is read or model loads: a bad judge config costs seconds, not a whole generation pass."""

from __future__ import annotations

import json

import pytest

import eval.models
import eval.tasks
from eval import runtime
from eval.run import main


@pytest.mark.parametrize("judge_args,message", [
    (["--judge", "gpt35", "--judge_options.llm.model", ""], "judge.llm.model"),
    (["--judge", "gpt35"], "OPENAI_API_KEY"),
    (["--judge", "auto", "--judge_options.parse_rule", "regex"], "parse_rule"),
    (["--judge", "auto", "--judge_options", json.dumps({"llm": {"modle": "x"}})], "modle"),
    (["--judge", "no/such/judge.yaml"], "file not found"),
], ids=["unpinned-model", "missing-key", "bad-parse-rule", "misspelt-option", "missing-file"])
def test_bad_judge_config_fails_before_the_model_loads(judge_args, message, heldout_root, tmp_path, monkeypatch,
                                                        capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    started = []
    build, materialise = eval.models.build, eval.tasks.materialise
    monkeypatch.setattr(eval.models, "build", lambda *a, **k: started.append("model") or build(*a, **k))
    monkeypatch.setattr(eval.tasks, "materialise", lambda *a, **k: started.append("tasks") or materialise(*a, **k))
    argv = ["--model", "tiny-llava_onevision", "--tasks", "dreamframe_heldout_open",
            "--data_dirs", json.dumps({"dreamframe_heldout": str(heldout_root)}), "--out", str(tmp_path / "out"),
            "--progress", "false", *judge_args]
    try:
        assert main(argv) == 2
    except SystemExit as exit_:  # a typed option refused as the command line is parsed
        assert exit_.code == 2
    assert started == []
    assert message in capsys.readouterr().err


def test_every_reader_takes_the_one_resolved_section(tmp_path):
    """The tasks, the open-answer scorer and the judge builder read the section the run's context holds."""
    from eval.judges.judge import LexicalJudge
    from eval.judges.options import JudgeOptions
    from eval.judges.select import judge_config, rules_only

    section = judge_config("auto", JudgeOptions(lexical_threshold=0.75), tmp_path)
    assert section.lexical_threshold == 0.75 and section.cache_dir == str(tmp_path)
    ctx = runtime.RunContext(out_dir=tmp_path, judge_name="exact_match", judge_config=section)
    assert ctx.judge_section() is section and not rules_only(ctx.judge_section())
    judge = ctx.judge()
    assert isinstance(judge, LexicalJudge) and judge.cfg.lexical_threshold == 0.75


def test_judge_options_are_typed_and_reach_the_section():
    """--judge_options is a typed section: set fields override the preset by their dotted name, unset ones
    (None) keep it; before, an untyped dict passed any key through."""
    from dreamframe.config import parse_config
    from eval.judges.options import JudgeLLMOptions, JudgeOptions
    from eval.judges.select import judge_config
    from eval.run import EvalConfig

    cfg = parse_config(EvalConfig, ["--judge", "openai_compatible", "--judge_options.llm.base_url", "http://h:1/v1",
                                    "--judge_options.llm.model", "m-2026"], prog="eval.run", description="")
    assert cfg.judge_options == JudgeOptions(llm=JudgeLLMOptions(base_url="http://h:1/v1", model="m-2026"))
    assert cfg.judge_options.overrides() == {"llm.base_url": "http://h:1/v1", "llm.model": "m-2026"}
    section = judge_config(cfg.judge, cfg.judge_options)
    assert (section.llm.base_url, section.llm.model) == ("http://h:1/v1", "m-2026")
    assert section.llm.max_tokens == judge_config("openai_compatible").llm.max_tokens  # unset: the preset's


def test_the_run_context_is_passed_not_a_module_global(tmp_path):
    """Two runs' contexts side by side each get their own judge record through the task objects' hooks;
    before, task hooks wrote into the one module global `eval.runtime._CTX`."""
    from eval.tasks.dreamframe import utils

    assert not [name for name, value in vars(runtime).items() if isinstance(value, runtime.RunContext)]
    items = [{"task": "dreamframe_heldout_open", "question_id": "q1", "question": "q", "answer": "a cat",
              "type": "action", "pred": "a cat"}]
    exact, lexical = runtime.RunContext(judge_name="exact_match"), runtime.RunContext(judge_name="auto")
    hook = runtime.bind(utils.agg_acc, exact)
    assert hook(items) == 100.0 and runtime.bind(utils.agg_acc, lexical)(items) == 100.0
    assert exact.judges_used["dreamframe_heldout_open"].name == "exact_match_fallback"
    assert lexical.judges_used["dreamframe_heldout_open"].name == "lexical-f1"
    assert runtime.bind(max, exact) is max  # hooks without a ctx parameter are left as they are
