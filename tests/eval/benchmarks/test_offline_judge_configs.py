"""The offline judge (a local transformers model through dreamframe.llm) and the judge YAML presets."""

from __future__ import annotations

from pathlib import Path

import pytest

from dreamframe.config import from_dict, load_yaml
from dreamframe.llm.config import LLMConfig
from eval.judges import JudgeConfig, build_judge
from eval.judges.select import PRESET_DIR, judge_config
from eval.tasks.open_qa.scoring import score_open_qa
from tests.dreamframe.llm.conftest import tiny_lm_dir  # noqa: F401 - A's tiny random-init causal LM fixture


def test_offline_transformers_judge_counts_non_dict_replies_and_goes_on(tiny_lm_dir, tmp_path):  # noqa: F811
    cfg = JudgeConfig(kind="llm", cache_dir=str(tmp_path / "jc"),
                      llm=LLMConfig(backend="transformers", model=tiny_lm_dir, temperature=0.0, max_tokens=6,
                                    response_format="none", batch_size=4))
    judge = build_judge(cfg)
    items = [{"question": "q?", "answer": a, "pred": a, "type": t} for a, t in (("a cat", 0), ("no", 3), ("2", 7))]
    out = score_open_qa(judge, items, "activitynet_qa")
    assert out["n"] == 3 and out["judge_unparsable"] == 3  # random weights never write a dict
    assert out["accuracy"] is None and out["score"] is None  # nothing to average: None, not a crash
    rec = judge.record()
    assert rec["name"] == "llm:transformers" and rec["model"] == tiny_lm_dir and rec["comparable_to_published"] is False
    assert (tmp_path / "jc" / "judge_verdicts.sqlite").is_file()


@pytest.mark.parametrize("path", sorted(PRESET_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_judge_yaml_loads_through_the_dataclass(path: Path):
    cfg = from_dict(JudgeConfig, load_yaml(str(path)))  # a stale or misspelt key raises here
    cfg.validate()
    assert judge_config(path.stem).kind == cfg.kind


def test_lexical_yaml_equals_the_defaults():
    assert judge_config("lexical") == JudgeConfig()
    assert judge_config(str(PRESET_DIR / "lexical.yaml")) == JudgeConfig()


def test_bad_judge_configs_are_named():
    with pytest.raises(ValueError, match="judge.llm.model"):
        judge_config("gpt35", {"llm.model": ""})
    with pytest.raises(ValueError, match="unknown config key"):
        judge_config("gpt35", {"llm.modle": "x"})
    with pytest.raises(ValueError, match="not auto, exact_match, a YAML file or a preset"):
        judge_config("gpt5-please")
    with pytest.raises(ValueError, match="parse_rule"):
        judge_config("auto", {"parse_rule": "regex"})
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        import os

        os.environ.pop("OPENAI_API_KEY", None)
        build_judge(judge_config("gpt35"))
