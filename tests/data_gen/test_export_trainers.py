"""Exports work where each trainer's docs put them: a clip brings each keyframe once, LLaMA-Factory reads an
export copied into its `data/` folder, and LLaVA-NeXT flags that would resample the clips are warned about
(and do resample, in the re-implementation of its reader: tests/data_gen/trainer_loaders.py)."""

from __future__ import annotations

import json
import shutil

import pytest

from data_gen.export import main
from data_gen.trainer_setup import LlavaFlags, llava_resampling
from dreamframe.config import load_yaml
from dreamframe.dataset import DatasetFolder
from tests.conftest import REPO
from tests.data_gen import trainer_loaders as tl
from tests.data_gen.dataset_fixtures import tiny_config


@pytest.fixture(scope="module")
def four_keyframe_spans(tmp_path_factory):
    """Two movies whose sub-stories have 4 keyframes each."""
    from data_gen.generate import generate

    out = tmp_path_factory.mktemp("four") / "data"
    story = {**load_yaml(REPO / "configs/data_gen/tiny.yaml")["story"], "frames": 4}
    generate(tiny_config(out, num_movies=2, workers=1, test_fraction=0.0, story=story), progress=False)
    return out


@pytest.mark.parametrize("fmt", ["llava", "sharegpt"])
def test_a_four_keyframe_qa_exports_its_four_frames_once(four_keyframe_spans, tmp_path, fmt):
    out = tmp_path / f"{fmt}.json"
    assert main(["--in", str(four_keyframe_spans), "--format", fmt, "--out", str(out)]) == 0  # --num-frames 8
    qas = {q.id: q for m in DatasetFolder(four_keyframe_spans).movies() for q in m.qa}
    records = json.loads(out.read_text())
    short = [r for r in records if qas[r["id"]].frame_end - qas[r["id"]].frame_start == 4]
    assert short
    for rec in records:
        qa = qas[rec["id"]]
        frames = rec["frames"] if fmt == "llava" else rec["videos"][0]
        indices = [int(p.rsplit("/", 1)[1].split(".")[0]) for p in frames]
        assert len(set(indices)) == len(indices) == min(8, qa.frame_end - qa.frame_start), rec["id"]  # was 8: 0,0,1,1,..
        if len(indices) < 8:
            assert indices == list(range(qa.frame_start, qa.frame_end))
    summary = json.loads(out.with_name(f"{fmt}.export.json").read_text())
    assert summary["repeated_frames"] is False and summary["frames_per_clip"]["4"] == len(short)
    if fmt == "llava":  # the clip itself holds 4 frames: what decord gives LLaVA-NeXT
        item = tl.llava_next_get_item(short[0], tl.LlavaDataArgs(video_folder=str(tmp_path)))
        assert len(item["video"]) == 4


@pytest.mark.parametrize("absolute", [True, False])
def test_llama_factory_reads_an_export_copied_into_its_data_folder(dataset, tmp_path, monkeypatch, capsys, absolute):
    """LLaMA-Factory's README: copy the JSON into data/ and register it in data/dataset_info.json."""
    out = tmp_path / "export" / "dreamframe.json"
    args = ["--in", str(dataset), "--format", "llamafactory", "--out", str(out), "--num-frames", "4"]
    assert main(args + ([] if absolute else ["--absolute-paths", "false"])) == 0
    printed = capsys.readouterr().out
    checkout = tmp_path / "src" / "LLaMA-Factory"  # not as deep as the export: no relative path resolves by luck
    (checkout / "data").mkdir(parents=True)
    shutil.copy(out, checkout / "data" / out.name)
    entry = json.loads(out.with_name("dreamframe.export.json").read_text())["dataset_info"]
    assert (json.dumps(entry) in printed) == absolute  # relative paths: told to use dataset_dir instead
    (checkout / "data" / "dataset_info.json").write_text(json.dumps({"alpaca_en_demo": {"file_name": "a.json"}, **entry}))
    monkeypatch.chdir(checkout)  # its scripts run from the checkout with dataset_dir: data
    (attr,) = tl.get_dataset_list(["dreamframe"], "data")
    rows = tl.load_single_dataset(attr, "data")
    converted = [tl.sharegpt_convert(row, attr, media_dir="data") for row in rows]
    if not absolute:  # the old default: relative paths resolve only from the export's own folder
        with pytest.raises(ValueError, match="Invalid image found in video frames"):
            tl.llamafactory_visual_input(converted[0])
        return
    for conv in converted:
        (frames,) = tl.llamafactory_visual_input(conv)
        assert 3 <= len(frames) <= 4


def test_llava_flags_that_resample_the_clips_are_warned_and_do_resample(dataset, tmp_path, capsys):
    out = tmp_path / "llava.json"
    assert main(["--in", str(dataset), "--format", "llava", "--out", str(out), "--num-frames", "4",
                 "--llava.frames_upbound", "64", "--llava.force_sample", "true"]) == 0
    captured = capsys.readouterr()
    assert "--video_folder" in captured.out and "--frames_upbound 64 --force_sample True" in captured.out
    assert "warning: --frames_upbound 64 --force_sample True" in captured.err and "repeated about 16 times" in captured.err
    summary = json.loads(out.with_name("llava.export.json").read_text())
    assert summary["warnings"] and summary["llava"] == {"frames_upbound": 64, "force_sample": True, "video_fps": 1}
    rec = json.loads(out.read_text())[0]  # what the warning says is what LLaVA-NeXT's reader does
    item = tl.llava_next_get_item(rec, tl.LlavaDataArgs(video_folder=str(tmp_path), frames_upbound=64, force_sample=True))
    assert len(item["video"]) == 64 and len(rec["frames"]) < 64


def test_llava_flag_check_names_each_resampling_case():
    assert llava_resampling(LlavaFlags(), {3: 5, 8: 9}) == []
    assert llava_resampling(LlavaFlags(frames_upbound=8), {3: 5, 8: 9}) == []  # a bound clips stay under
    assert llava_resampling(LlavaFlags(frames_upbound=8, force_sample=True), {8: 9}) == []
    (grown,) = llava_resampling(LlavaFlags(frames_upbound=8, force_sample=True), {3: 5, 8: 9})
    assert "5 clip(s) of 3 frames become 8" in grown
    (cut,) = llava_resampling(LlavaFlags(frames_upbound=4), {3: 5, 8: 9})
    assert "9 clip(s) of 8 frames are cut to 4" in cut
    (fps,) = llava_resampling(LlavaFlags(video_fps=2), {8: 1})
    assert "--video_fps 2" in fps and "step round(1/2) is 0" in fps
