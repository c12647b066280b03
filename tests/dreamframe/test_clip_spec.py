"""One clip spec (frame count + rule) from dataset to training to export to eval, and one reader of the rule a
dataset records, whichever manifest key an older folder kept it under."""

from __future__ import annotations

import json

import pytest

from dreamframe.clip import ClipSpec
from dreamframe.dataset import FORMAT_NAME, DatasetError, DatasetFolder
from dreamframe.frames import SamplingRule
from models.base import ModelConfig
from training.data import resolve_clip


def _folder(root, manifest: dict | None = None, config_yaml: str | None = None):
    root.mkdir(parents=True)
    if manifest is not None:
        (root / "manifest.json").write_text(json.dumps({"format": FORMAT_NAME, **manifest}))
    if config_yaml is not None:
        (root / "config.yaml").write_text(config_yaml)
    return root


def test_clip_spec_round_trips_and_refuses_what_it_cannot_be():
    spec = ClipSpec(16, "videochat2")
    assert spec.rule is SamplingRule.videochat2 and str(spec) == "videochat2 x16"
    assert spec.as_dict() == {"num_frames": 16, "rule": "videochat2"}
    assert json.loads(json.dumps(spec.as_dict())) == spec.as_dict()  # plain JSON, as results and exports store it
    assert ClipSpec.from_dict(spec.as_dict()) == spec and ClipSpec(8) == ClipSpec(8, "segment_centre")
    with pytest.raises(ValueError, match=r"x.json: trained_clip: expected \{'num_frames', 'rule'\}"):
        ClipSpec.from_dict({"num_frames": 4}, "x.json: trained_clip")
    with pytest.raises(ValueError, match="x.json: clip rule: unknown sampling rule 'centre'"):
        ClipSpec.from_dict({"num_frames": 4, "rule": "centre"}, "x.json")
    for bad in (0, True, 2.5):
        with pytest.raises(ValueError, match="positive integer"):
            ClipSpec(bad)


@pytest.mark.parametrize("manifest, config_yaml, rule", [
    ({"config": {"frame_sampling": "linspace_inclusive"}}, None, "linspace_inclusive"),  # now: the config only
    ({"frame_sampling": "linspace_exclusive", "config": {}}, None, "linspace_exclusive"),  # an old top-level copy
    ({"frame_sampling": "videochat2", "config": {"frame_sampling": "videochat2"}}, None, "videochat2"),  # both
    (None, "frame_sampling: linspace_inclusive\n", "linspace_inclusive"),  # not finalized yet: config.yaml
    ({"config": {}}, None, None),
    (None, None, None),
])
def test_one_reader_of_a_datasets_rule_reads_old_and_new_folders(tmp_path, manifest, config_yaml, rule):
    folder = DatasetFolder(_folder(tmp_path / "d", manifest, config_yaml))
    assert folder.frame_rule() == rule
    # eval's protocol default and training's run clip both read it there (they used to read different keys)
    from eval.tasks.dreamframe import default_frames

    assert default_frames(folder.root) == ClipSpec(8, rule or "segment_centre")
    assert resolve_clip(ModelConfig(num_frames=4), [folder.root]) == ClipSpec(4, rule or "segment_centre")


def test_a_bad_recorded_rule_names_the_manifest(tmp_path):
    folder = DatasetFolder(_folder(tmp_path / "d", {"config": {"frame_sampling": "middle"}}))
    with pytest.raises(ValueError, match=r"manifest.json: frame_sampling: unknown sampling rule 'middle'"):
        folder.frame_rule()


def test_the_run_clip_is_resolved_once_from_every_source(tmp_path):
    old = _folder(tmp_path / "old", {"frame_sampling": "linspace_inclusive"})
    new = _folder(tmp_path / "new", {"config": {"frame_sampling": "linspace_inclusive"}})
    other = _folder(tmp_path / "other", {"config": {"frame_sampling": "videochat2"}})
    assert resolve_clip(ModelConfig(num_frames=4), [old, new]) == ClipSpec(4, "linspace_inclusive")
    with pytest.raises(DatasetError, match="record different frame sampling rules"):
        resolve_clip(ModelConfig(num_frames=4), [old, other])
    told = ModelConfig(num_frames=2, frame_sampling="segment_centre")  # the config's rule wins over the datasets'
    assert resolve_clip(told, [old, other]) == ClipSpec(2, "segment_centre")
