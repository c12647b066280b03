"""Configs load through the dataclasses (a stale key fails); the module's zero-weighted vision pass on a
text-only batch; the MFU estimate's parameter accounting."""

from __future__ import annotations

import json

import pytest
import yaml

from dreamframe.config import from_dict, to_dict
from tests.training.conftest import ROOT
from training.config import TrainConfig
from training.strategies import deepspeed_dict

TRAIN_YAMLS = sorted((ROOT / "configs" / "train").glob("*.yaml"))


@pytest.mark.parametrize("path", TRAIN_YAMLS, ids=lambda p: p.name)
def test_train_yaml_loads_through_dataclass(path):
    data = yaml.safe_load(path.read_text())
    cfg = from_dict(TrainConfig, data)
    assert to_dict(cfg) == to_dict(from_dict(TrainConfig, to_dict(cfg)))
    if cfg.strategy.name == "deepspeed":
        ds = deepspeed_dict(cfg)  # paths in the YAMLs are relative to the repo root
        assert ds["train_micro_batch_size_per_gpu"] == cfg.data.batch_size


def test_defaults_equal_tiny_cpu_yaml():
    assert to_dict(TrainConfig()) == yaml.safe_load((ROOT / "configs/train/tiny_cpu.yaml").read_text())


def test_paper_presets():
    for name in ("dreamframe_7b_videollava", "dreamframe_7b_llava_ov", "dreamframe_7b_qwen25vl"):
        cfg = from_dict(TrainConfig, yaml.safe_load((ROOT / f"configs/train/{name}.yaml").read_text()))
        assert (cfg.max_epochs, cfg.optim.lr, cfg.data.batch_size, cfg.devices) == (1, 2e-5, 4, 8)
        assert "vision" in cfg.model.freeze and deepspeed_dict(cfg)["zero_optimization"]["stage"] == 3


def test_deepspeed_json_rejects_keys_owned_by_the_train_config(tmp_path):
    bad = tmp_path / "ds.json"
    bad.write_text(json.dumps({"zero_optimization": {"stage": 2}, "gradient_accumulation_steps": 4}))
    cfg = TrainConfig()
    cfg.strategy.name, cfg.strategy.deepspeed_config = "deepspeed", str(bad)
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        deepspeed_dict(cfg)


def test_text_only_batch_still_runs_the_vision_tower():
    """ZeRO-3 safety: a batch without video still gives every vision parameter a (zero) gradient."""
    from models.base import ModelConfig, Sample
    from models.registry import build_adapter
    from training.module import flops_per_token, make_module, param_counts

    adapter = build_adapter(ModelConfig(tiny={"image_size": 32, "patch_size": 8, "hidden_size": 32,
                                              "vision_hidden_size": 32, "vocab_size": 400}, num_frames=2, freeze=[]))
    module = make_module(adapter, TrainConfig().optim, lambda trainer: 10)
    from PIL import Image

    def touched(sample: Sample) -> dict[str, float]:
        adapter.model.zero_grad(set_to_none=True)
        module.training_step(adapter.collate([sample]), 0).backward()
        return {n: float(p.grad.abs().sum()) for n, p in adapter.model.named_parameters() if p.grad is not None}

    chat = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "world"}]
    text_only = touched(Sample(frames=[], messages=chat, id="t"))
    video = touched(Sample(frames=[Image.new("RGB", (32, 32), "red")] * 2, messages=chat, id="v"))
    vision = {n for n in video if adapter.part_of(n) == "vision"}
    assert vision, "the video batch reached no vision parameter"
    assert set(text_only) == set(video), "text-only and video batches must touch the same parameters (ZeRO-3)"
    assert all(text_only[n] == 0.0 for n in vision) and any(video[n] > 0 for n in vision)
    trainable, frozen = param_counts(adapter.model)
    assert trainable > 0 and flops_per_token(adapter.model) == 6 * trainable + 2 * frozen


def test_the_default_shuffles_frame_order_only_where_no_answer_rests_on_it(tmp_path):
    """tiny_cpu.yaml hands colour, count, location and where questions their clip's frames in a random order
    (an augmentation); a question whose answer rests on particular frames (it records `evidence`: temporal,
    action) must always get the clip's own order, or the tuned model becomes its own order-blind control."""
    from data_gen.config import GenerateConfig
    from data_gen.generate import write_story
    from dreamframe.config import load_yaml

    data = from_dict(GenerateConfig, {**load_yaml(str(ROOT / "configs/data_gen/demo_cpu.yaml")), "out": str(tmp_path)})
    asked = [q for i in range(8) for q in write_story(data, i).qa]
    sources = TrainConfig().data.sources
    shuffled = {t for s in sources if s.frames == "order_shuffled" for t in s.qa_types}
    ordered = {t for s in sources if s.frames == "matched" for t in s.qa_types}
    rests_on_frames = {q.qa_type for q in asked if q.evidence}
    assert shuffled and rests_on_frames == {"temporal", "action"}
    assert not shuffled & rests_on_frames and rests_on_frames <= ordered
