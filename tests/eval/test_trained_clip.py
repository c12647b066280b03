"""A model is scored with the clip rule and frame count it was trained with (recorded in its export) unless
told otherwise, and the results say where the frames came from."""

from __future__ import annotations

from eval.run import EvalConfig, frames_for
from models.base import ModelConfig
from models.registry import build_adapter, load_adapter, trained_clip


def test_trained_clip_is_the_default_and_the_source_is_named(tmp_path):
    tiny_adapter = build_adapter(ModelConfig(tiny={"image_size": 32, "patch_size": 8, "layers": 1, "vision_layers": 1}))
    folder = tmp_path / "trained"
    tiny_adapter.trained_clip = {"rule": "linspace_inclusive", "num_frames": 3}
    try:
        tiny_adapter.save(folder)
    finally:
        tiny_adapter.trained_clip = None
    assert trained_clip(folder) == {"rule": "linspace_inclusive", "num_frames": 3}
    assert load_adapter(folder).trained_clip == {"rule": "linspace_inclusive", "num_frames": 3}
    assert frames_for(EvalConfig(model=str(folder))) == {"num_frames": 3, "rule": "linspace_inclusive",
                                                         "source": "trained model"}
    told = frames_for(EvalConfig(model=str(folder), num_frames=16))
    assert told == {"num_frames": 16, "rule": "linspace_inclusive", "source": "command line + trained model"}
    assert frames_for(EvalConfig(model=str(folder), frames_from="benchmark")) == {
        "num_frames": None, "rule": None, "source": "benchmark protocol"}
    tiny_adapter.save(tmp_path / "untrained")
    assert frames_for(EvalConfig(model=str(tmp_path / "untrained")))["source"] == "benchmark protocol"
