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
    (["--judge", "gpt35", "--judge_options", json.dumps({"llm.model": ""})], "judge.llm.model"),
    (["--judge", "gpt35"], "OPENAI_API_KEY"),
    (["--judge", "auto", "--judge_options", json.dumps({"parse_rule": "regex"})], "parse_rule"),
    (["--judge", "no/such/judge.yaml"], "file not found"),
], ids=["unpinned-model", "missing-key", "bad-parse-rule", "missing-file"])
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
    finally:
        runtime.set_context(runtime.RunContext())
    assert started == []
    assert message in capsys.readouterr().err


def test_every_reader_takes_the_one_resolved_section(tmp_path):
    """The tasks, the open-answer scorer and the judge builder read the section the run resolved."""
    from eval.judges.judge import LexicalJudge
    from eval.judges.select import judge_config, rules_only, run_judge, run_judge_config

    section = judge_config("auto", {"lexical_threshold": 0.75}, tmp_path)
    runtime.set_context(runtime.RunContext(out_dir=tmp_path, judge="exact_match", judge_config=section))
    try:
        assert run_judge_config() is section and not rules_only(run_judge_config())
        judge = run_judge()
        assert isinstance(judge, LexicalJudge) and judge.cfg.lexical_threshold == 0.75
    finally:
        runtime.set_context(runtime.RunContext())
