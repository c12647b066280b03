"""A model is scored with the clip rule and frame count it was trained with (recorded in its export) unless
told otherwise, and the results say where the frames came from."""

from __future__ import annotations

import json

import pytest

from dreamframe.clip import ClipSpec
from eval.run import EvalConfig, FrameChoice, frames_for
from models.base import ModelConfig
from models.registry import build_adapter, load_adapter
from models.saving import META_FILE, read_model_meta


def test_trained_clip_is_the_default_and_the_source_is_named(tmp_path):
    tiny_adapter = build_adapter(ModelConfig(tiny={"image_size": 32, "patch_size": 8, "layers": 1, "vision_layers": 1}))
    folder = tmp_path / "trained"
    tiny_adapter.trained_clip = ClipSpec(3, "linspace_inclusive")
    try:
        tiny_adapter.save(folder)
    finally:
        tiny_adapter.trained_clip = None
    on_disk = json.loads((folder / META_FILE).read_text())["trained_clip"]
    assert on_disk == {"num_frames": 3, "rule": "linspace_inclusive"}  # the format older folders have too
    assert read_model_meta(folder).trained_clip == ClipSpec(3, "linspace_inclusive")
    assert load_adapter(folder).trained_clip == ClipSpec(3, "linspace_inclusive")
    assert frames_for(EvalConfig(model=str(folder))) == FrameChoice(3, "linspace_inclusive", "trained model")
    told = frames_for(EvalConfig(model=str(folder), num_frames=16))
    assert told == FrameChoice(16, "linspace_inclusive", "command line + trained model")
    assert frames_for(EvalConfig(model=str(folder), frames_from="benchmark")) == FrameChoice(
        None, None, "benchmark protocol")
    tiny_adapter.save(tmp_path / "untrained")
    assert read_model_meta(tmp_path / "untrained").trained_clip is None
    assert frames_for(EvalConfig(model=str(tmp_path / "untrained"))).source == "benchmark protocol"


def test_a_damaged_trained_clip_is_refused_naming_the_file_and_key(tmp_path):
    (tmp_path / META_FILE).write_text(json.dumps({"family": "qwen2_5_vl", "trained_clip": {"num_frames": 0,
                                                                                          "rule": "segment_centre"}}))
    with pytest.raises(ValueError, match=r"dreamframe_model.json: trained_clip: .*positive integer"):
        read_model_meta(tmp_path)
    (tmp_path / META_FILE).write_text(json.dumps({"family": "qwen2_5_vl", "trained_clip": {"rule": "segment_centr",
                                                                                          "num_frames": 4}}))
    with pytest.raises(ValueError, match=r"trained_clip: clip rule: unknown sampling rule 'segment_centr'"):
        read_model_meta(tmp_path)
