"""Each export read back the way its trainer reads it: every sample reaches the model with visual input,
and its frames are exactly the QA pair's clip (see trainer_loaders.py for the sources and commits)."""

from __future__ import annotations

import functools
import json
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from data_gen.export import main
from dreamframe.dataset import DatasetFolder, frame_name
from dreamframe.frames import handed_frames
from tests.data_gen import trainer_loaders as tl

NUM_FRAMES = 4


def expected_clips(dataset, split="train"):
    """qa id -> (movie, the frame indices of its clip, in the order handed): what every trainer must receive."""
    folder = DatasetFolder(dataset)
    rule = folder.frame_rule()
    return {qa.id: (m, handed_frames(qa.frame_indices, NUM_FRAMES, rule, qa.frame_order, distinct=True))
            for m in folder.movies(split) for qa in m.qa}


def expected_pairs(dataset) -> dict[str, str | None]:
    """qa id -> its pair_id (None: unpaired)."""
    return {qa.id: qa.pair_id for m in DatasetFolder(dataset).movies() for qa in m.qa}


@functools.cache
def frame_pixels(dataset, movie_id: str, index: int) -> np.ndarray:
    return np.asarray(Image.open(dataset / "frames" / movie_id / frame_name(index)).convert("RGB"), dtype=np.float32)


CODEC_TOLERANCE = 20.0
"""Mean squared error (0-255 scale) that H.264's 4:2:0 chroma alone adds at 96 px (measured 10-23)."""


def shows_frame(decoded: np.ndarray, dataset, movie, index: int) -> bool:
    """Whether a decoded (lossy) video frame shows movie frame `index`: it matches that frame as well as
    any frame of the movie, within the codec's error (near-identical neighbours are indistinguishable)."""
    errors = [np.mean((decoded.astype(np.float32) - frame_pixels(dataset, movie.id, i)) ** 2) for i in range(movie.num_keyframes)]
    return errors[index] <= min(errors) + CODEC_TOLERANCE


def assert_clip(video: np.ndarray, dataset, movie, indices: list[int], what: str) -> None:
    assert len(video) == len(indices), what
    assert all(shows_frame(f, dataset, movie, i) for f, i in zip(video, indices)), what


def printed_flags(summary: dict) -> tl.LlavaDataArgs:
    """The LLaVA-NeXT flags the export printed, as the trainer's DataArguments."""
    flags = dict(zip(summary["train_flags"][::2], summary["train_flags"][1::2]))
    return tl.LlavaDataArgs(video_folder=flags["--video_folder"], video_fps=int(flags["--video_fps"]),
                            frames_upbound=int(flags["--frames_upbound"]), force_sample=flags["--force_sample"] == "True")


def test_llava_next_reads_each_qa_clip_as_video_with_its_image_token(paired_dataset, tmp_path, monkeypatch):
    dataset = paired_dataset  # minimal pairs: a reversed twin's clip plays its frames last to first
    out = tmp_path / "export" / "llava_train.json"
    assert main(["--in", str(dataset), "--format", "llava", "--out", str(out), "--num-frames", str(NUM_FRAMES)]) == 0
    monkeypatch.chdir(tmp_path)  # the trainer runs from its own folder; only --video_folder locates clips
    expected = expected_clips(dataset)
    records = json.loads(out.read_text())
    assert {r["id"] for r in records} == set(expected)
    pairs = expected_pairs(dataset)
    assert all(r["pair_id"] == pairs[r["id"]] for r in records) and any(r["pair_id"] for r in records)
    assert any(expected[r["id"]][1] != sorted(expected[r["id"]][1]) for r in records)  # a reversed twin is there
    summary = json.loads(out.with_name("llava_train.export.json").read_text())
    lengths = Counter(len(indices) for _, indices in expected.values())
    assert summary["frames_per_clip"] == {str(k): v for k, v in sorted(lengths.items())} and summary["warnings"] == []
    assert set(lengths) == {3, NUM_FRAMES}  # the fixture's sub-story spans have 3 keyframes: 3 frames, once each
    for args in (tl.LlavaDataArgs(video_folder=str(out.parent)), printed_flags(summary),  # defaults; printed set
                 tl.LlavaDataArgs(video_folder="/elsewhere")):  # absolute clip paths: any --video_folder
        for rec in records:
            item = tl.llava_next_get_item(rec, args)
            assert item["visual_reaches_model"], rec["id"]
            assert item["conversations"][0]["value"].startswith(tl.DEFAULT_IMAGE_TOKEN + "\n")
            movie, indices = expected[rec["id"]]
            assert_clip(item["video"], dataset, movie, indices, rec["id"])
    rec = next(r for r in records if len(expected[r["id"]][1]) == NUM_FRAMES
               and expected[r["id"]][1][-1] < expected[r["id"]][0].num_frames - NUM_FRAMES)
    # the check can fail: another sub-story's frames are not this clip
    movie, indices = expected[rec["id"]]
    last_substory = [movie.num_frames - 1 - k for k in range(NUM_FRAMES)][::-1]
    wrong = np.stack([frame_pixels(dataset, movie.id, i) for i in last_substory])
    with pytest.raises(AssertionError):
        assert_clip(wrong, dataset, movie, indices, "other frames")


def test_the_old_video_token_would_have_trained_text_only():
    """The check can fail: LLaVA-NeXT ignores `<video>`, so such a sample carries no visual input."""
    rec = {"id": "x", "video": "clip.mp4", "conversations": [{"from": "human", "value": "<video>\nQ"},
                                                             {"from": "gpt", "value": "A"}]}
    convs = tl.preprocess_multimodal([rec["conversations"]], tl.LlavaDataArgs())[0]
    assert sum(t["value"].count(tl.DEFAULT_IMAGE_TOKEN) for t in convs) == 0


@pytest.mark.parametrize("fmt", ["llamafactory", "sharegpt"])
def test_llama_factory_reads_frames_through_dataset_info(paired_dataset, tmp_path, monkeypatch, fmt):
    dataset = paired_dataset
    data_dir = tmp_path / "lf_data"
    out = data_dir / f"dreamframe_{fmt}.json"
    assert main(["--in", str(dataset), "--format", fmt, "--out", str(out), "--num-frames", str(NUM_FRAMES),
                 "--split", "all"]) == 0
    (data_dir / "dataset_info.json").write_text(json.dumps({  # another dataset already described there survives
        **json.loads((data_dir / "dataset_info.json").read_text()), "other": {"file_name": "x.json"}}))
    assert main(["--in", str(dataset), "--format", fmt, "--out", str(out), "--num-frames", str(NUM_FRAMES),
                 "--split", "all"]) == 0
    assert "other" in json.loads((data_dir / "dataset_info.json").read_text())
    monkeypatch.chdir(tmp_path)  # LLaMA-Factory runs from its own checkout, dataset_dir points here
    expected = {**expected_clips(dataset, "train"), **expected_clips(dataset, "test")}
    (attr,) = tl.get_dataset_list([out.stem], str(data_dir))
    rows = tl.load_single_dataset(attr, str(data_dir))
    assert len(rows) == len(expected)
    pairs = expected_pairs(dataset)
    assert [row["pair_id"] for row in rows] == [pairs[row["id"]] for row in rows]
    for row in rows:
        converted = tl.sharegpt_convert(row, attr, media_dir=str(data_dir))  # media_dir defaults to dataset_dir
        assert converted["_prompt"] and converted["_response"], row["id"]
        (frames,) = tl.llamafactory_visual_input(converted)
        movie, indices = expected[row["id"]]
        assert [p for p in converted["_videos"][0]] == [str(data_dir / r) for r in row["videos"][0]]
        for image, i in zip(frames, indices, strict=True):
            assert np.array_equal(np.asarray(image, dtype=np.float32), frame_pixels(dataset, movie.id, i))
