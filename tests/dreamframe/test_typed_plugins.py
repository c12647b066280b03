"""Plug-in contracts are types, checked when a plug-in is picked: a model family must implement every method
the base adapter declares (what training and eval call), a benchmark must offer its Protocol's members with
their types, and the typed config sections `model.tiny` / `model.lora` refuse a misspelt field by name."""

from __future__ import annotations

import textwrap

import pytest

from dreamframe.config import from_dict, parse_config
from dreamframe.registry import RegistryError
from eval.tasks.registry import discover
from models.base import LoraConfig, ModelConfig, TinyConfig
from models.registry import FAMILIES, build_adapter
from tests.conftest import REPO
from training.config import TrainConfig

HALF_ADAPTER = """
    from models.base import VideoLVLMAdapter

    class Half(VideoLVLMAdapter):  # what the base used to ask for: build, collate, generate, num_visual_tokens
        family = "half"
        @classmethod
        def build(cls, cfg): return cls(cfg, None, None)
        def collate(self, samples, train=True, answer_prefix=""): return {}
        def generate(self, frames, prompts, max_new_tokens=32, answer_prefix="", system=None, **kw): return []
        def num_visual_tokens(self, num_frames): return 0
        def save(self, path, lora="merge"): pass

    class Duck:  # a family and a build, but no adapter
        family = "duck"
        @classmethod
        def build(cls, cfg): return cls()
"""


def test_the_family_registry_refuses_an_adapter_missing_what_training_and_eval_call(tmp_path, monkeypatch):
    (tmp_path / "plug_half.py").write_text(textwrap.dedent(HALF_ADAPTER))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(FAMILIES, "_entries", dict(FAMILIES._entries))  # registered for this test only
    FAMILIES.add("half", "plug_half:Half")
    FAMILIES.add("duck", "plug_half:Duck")
    with pytest.raises(RegistryError, match=r"model family 'half' \(plug_half:Half\) lacks answer_logprobs, encode, "
                                            r"forward, generate_chats, option_logprobs, part_of, video_inputs of "
                                            r"models.base.VideoLVLMAdapter"):
        build_adapter(ModelConfig(family="half"))
    with pytest.raises(RegistryError, match=r"'duck' \(plug_half:Duck\) is not a subclass of models.base.VideoLVLMAdapter"):
        build_adapter(ModelConfig(family="duck"))
    for name in ("llava_onevision", "llava_next_video", "video_llava", "qwen2_5_vl"):
        assert not FAMILIES.load(name).__abstractmethods__


TOY = """
    from pathlib import Path
    from dreamframe.clip import ClipSpec
    NAME = "toy"
    DATA_DIR = "Toy"
    DEFAULT_FRAMES = {frames}
    TASKS = {{"toy": "toy questions"}}
    GROUP = None
    def template(task): return "_template.yaml"
    def find_root(data_root): return Path(data_root)
"""


@pytest.mark.parametrize("frames, prepare, message", [
    ('{"num_frames": 4, "rule": "segment_centre"}', True, r"lacks DEFAULT_FRAMES \(a ClipSpec, not dict\)"),
    ('ClipSpec(4)', False, r"lacks prepare of eval.tasks.registry.Benchmark"),
])
def test_the_benchmark_registry_refuses_a_module_missing_a_member_or_of_the_wrong_type(tmp_path, monkeypatch, frames,
                                                                                      prepare, message):
    pkg = tmp_path / f"plug_bench_{prepare}"  # one module name per case: an imported module stays in sys.modules
    (pkg / "toy").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    body = TOY.format(frames=frames) + ("    def prepare(root, task, num_frames, rule): return []\n" if prepare else "")
    (pkg / "toy" / "__init__.py").write_text(textwrap.dedent(body))
    (pkg / "toy" / "benchmark.yaml").write_text(f"benchmarks: {{toy: {pkg.name}.toy}}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(RegistryError, match=rf"benchmark 'toy' \({pkg.name}.toy\) {message}"):
        discover(pkg).load("toy")


@pytest.mark.parametrize("section, field", [("tiny", "hiden_size"), ("lora", "lora_alpa")])
def test_a_typo_in_model_tiny_or_lora_is_refused_naming_the_field(tmp_path, capsys, section, field):
    typo = tmp_path / "typo.yaml"
    typo.write_text(f"model:\n  {section}:\n    {field}: 8\n")
    with pytest.raises(SystemExit):
        parse_config(TrainConfig, ["--config", str(REPO / "configs/train/tiny_cpu.yaml"), "--config", str(typo)],
                     prog="test", description="")
    assert field in capsys.readouterr().err
    with pytest.raises(ValueError, match=rf"model.{section}: unknown field\(s\) \['{field}'\]"):
        ModelConfig(**{section: {field: 8}})  # the same section as a dict (tests, old export metadata)


def test_tiny_and_lora_are_typed_sections_that_yaml_overrides_and_old_exports_fill():
    cfg = parse_config(TrainConfig, ["--config", str(REPO / "configs/train/tiny_cpu.yaml"), "--model.tiny.layers=3",
                                     "--model.lora.r=4"], prog="test", description="")
    assert isinstance(cfg.model.tiny, TinyConfig) and cfg.model.tiny.layers == 3 and cfg.model.tiny.vocab_size == 2048
    assert cfg.model.lora == LoraConfig(r=4)
    old = from_dict(ModelConfig, {"family": "qwen2_5_vl", "tiny": {"image_size": 32}, "lora": None})
    assert old.tiny == TinyConfig(image_size=32) and old.lora is None
    with pytest.raises(ValueError, match="model.tiny.layers must be a positive integer"):
        TinyConfig(layers=0)
