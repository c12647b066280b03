"""The clip contract: an adapter feeds the model exactly the frames it is handed (it never resamples to its
own cfg.num_frames), and one batch holds one frame count."""

from __future__ import annotations

import pytest
from PIL import Image

from models.base import ModelConfig, Sample
from models.registry import FAMILIES, build_adapter


def frames(n: int) -> list[Image.Image]:
    return [Image.new("RGB", (40, 32), (40 * i % 255, 90, 160)) for i in range(n)]


def chat(n: int, sid: str) -> Sample:
    return Sample(frames(n), [{"role": "user", "content": "What happens?"}, {"role": "assistant", "content": "a walk"}], sid)


@pytest.fixture(scope="module", params=list(FAMILIES))
def adapter(request):
    return build_adapter(ModelConfig(family=request.param, num_frames=8, max_length=1024,
                                     tiny={"image_size": 32, "patch_size": 8, "layers": 1, "vision_layers": 1}))


@pytest.mark.parametrize("n", [2, 4])
def test_adapter_given_n_frames_feeds_exactly_n(adapter, n):
    """cfg.num_frames is 8; handed n frames, the model sees n: n frames of pixels, n frames' visual tokens."""
    for train in (True, False):
        batch = adapter.collate([chat(n, "a"), chat(n, "b")], train=train)
        assert int((batch["input_ids"][0] == adapter.video_token_id).sum()) == adapter.num_visual_tokens(n)
        pixels = batch["pixel_values_videos"]
        if "video_grid_thw" in batch:  # Qwen2.5-VL: frames in temporal patches of temporal_patch_size
            fed = batch["video_grid_thw"][:, 0] * adapter.spec.temporal_patch_size
            assert fed.tolist() == [n, n]
        else:
            assert tuple(pixels.shape[:2]) == (2, n)
    seen = []
    adapter.generate([frames(n)], ["What happens?"], max_new_tokens=1)
    original = adapter.video_inputs
    adapter.video_inputs = lambda videos: seen.extend(len(v) for v in videos) or original(videos)
    try:
        adapter.generate([frames(n)], ["What happens?"], max_new_tokens=1)
        adapter.answer_logprobs([frames(n)], ["What happens?"], ["a walk"])
    finally:
        del adapter.video_inputs
    assert seen == [n, n]


def test_one_batch_one_frame_count(adapter):
    with pytest.raises(ValueError, match=r"one frame count per run.*never resample"):
        adapter.collate([chat(2, "two"), chat(4, "four")])
    with pytest.raises(ValueError, match="one frame count per run"):
        adapter.answer_logprobs([frames(2), frames(4)], ["Q", "Q"], ["a", "b"])


def test_content_order_hands_a_clip_as_a_set_in_training_and_eval(adapter, tmp_path):
    """model.frame_order: content (the order-blind control): a clip and its reverse are one input - the same
    pixels in training batches and the same answer log-probabilities - and the export keeps the setting."""
    import copy
    from dataclasses import replace

    from models.registry import load_adapter

    clip = frames(4)
    forward, backward = chat(4, "f"), Sample(clip[::-1], chat(4, "b").messages, "b")
    set_adapter = copy.copy(adapter)
    set_adapter.cfg = replace(adapter.cfg, frame_order="content")
    for model, same in ((adapter, False), (set_adapter, True)):
        pixels = [model.collate([s])["pixel_values_videos"] for s in (forward, backward)]
        assert pixels[0].equal(pixels[1]) == same
    scores = set_adapter.answer_logprobs([clip, clip[::-1]], ["What happens?"] * 2, ["a walk"] * 2)
    assert scores[0] == scores[1]
    timed = adapter.answer_logprobs([clip, clip[::-1]], ["What happens?"] * 2, ["a walk"] * 2)
    assert timed[0] != timed[1]
    if adapter.family == "qwen2_5_vl":
        set_adapter.save(tmp_path / "export")
        assert load_adapter(tmp_path / "export").cfg.frame_order == "content"
