"""Every family: tiny build, collate (labels, budget), batched generate, save -> reload identical."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from models.base import ModelConfig, Sample
from models.registry import FAMILIES, build_adapter, load_adapter

FAMS = list(FAMILIES)


def clip(rgb, n=4, size=48):  # the data layer hands the model num_frames (4) frames
    return [Image.new("RGB", (size, size), tuple(int(c * (0.5 + i / (2 * n))) for c in rgb)) for i in range(n)]


RED, BLUE = clip((220, 30, 30)), clip((30, 30, 220))


def qa(frames, q="What colour is the person wearing?", a="green", sid="s"):
    return Sample(frames, [{"role": "user", "content": q}, {"role": "assistant", "content": a}], sid)


def _loud(adapter):
    """Random-init weights at std 0.02 give the same text for every input; widen them so outputs
    depend on the frames and the prompt (deterministically)."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in adapter.model.parameters():
            if p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=g) * 0.25)
    return adapter


@pytest.fixture(scope="module", params=FAMS)
def adapter(request):
    return _loud(build_adapter(ModelConfig(family=request.param, num_frames=4, max_length=512,
                                          tiny={"image_size": 32, "patch_size": 8})))


def test_collate_labels_only_assistant(adapter):
    multi = Sample(RED, [{"role": "system", "content": "Answer with one word."},
                         {"role": "user", "content": "<video>\nWhat colour is the man wearing?"},
                         {"role": "assistant", "content": "red"},
                         {"role": "user", "content": "Where does this clip take place?"},
                         {"role": "assistant", "content": "bridge"}], "multi")
    text_only = Sample([], [{"role": "user", "content": "Say yes."}, {"role": "assistant", "content": "yes"}], "t")
    batch = adapter.collate([multi, text_only], train=True)
    ids, labels = batch["input_ids"], batch["labels"]
    assert ids.shape == labels.shape == batch["attention_mask"].shape
    kept = adapter.tokenizer.decode(labels[0][labels[0] != -100].tolist(), skip_special_tokens=True)
    assert kept.split() == ["red", "bridge"]
    kept1 = adapter.tokenizer.decode(labels[1][labels[1] != -100].tolist(), skip_special_tokens=True)
    assert kept1.split() == ["yes"]
    n_vis = adapter.num_visual_tokens(adapter.cfg.num_frames)
    assert int((ids[0] == adapter.video_token_id).sum()) == n_vis
    assert int((ids[1] == adapter.video_token_id).sum()) == 0
    # right padding for training: padding only after the last real token
    assert batch["attention_mask"][1, 0] == 1 and batch["attention_mask"][1, -1] == 0
    assert torch.all(labels[batch["attention_mask"] == 0] == -100)
    adapter.model.train()
    out = adapter.forward(batch)
    assert torch.isfinite(out.loss) and out.loss.item() > 0
    adapter.model.eval()


def test_over_budget_is_an_error_not_a_truncation(adapter):
    old = adapter.cfg.max_length
    adapter.cfg.max_length = len(adapter.encode(qa([], sid="short"))["input_ids"])  # text fits exactly
    try:
        with pytest.raises(ValueError, match=r"sample 'too-long'.*visual.*max_length"):
            adapter.collate([qa(RED, sid="too-long")])
        adapter.collate([qa([], sid="short")])  # the same budget is fine without the video
    finally:
        adapter.cfg.max_length = old


def test_batched_left_padded_generate_matches_one_by_one(adapter):
    prompts = ["What colour is the person wearing?", "Where does this clip take place? Answer with one word please."]
    batch = adapter.generate([RED, BLUE], prompts, max_new_tokens=5)
    single = [adapter.generate([f], [p], max_new_tokens=5)[0] for f, p in zip([RED, BLUE], prompts)]
    assert batch == single
    assert batch[0] != adapter.generate([BLUE], prompts[:1], max_new_tokens=5)[0], "output ignores the frames"


def test_save_reload_identical(adapter, tmp_path):
    batch = adapter.collate([qa(RED), qa(BLUE, a="a blue coat")])
    with torch.no_grad():
        before = adapter.model(**batch).logits
    adapter.save(tmp_path / "m")
    assert (tmp_path / "m" / "model.safetensors").is_file()
    again = load_adapter(tmp_path / "m")
    assert again.family == adapter.family
    with torch.no_grad():
        after = again.model(**again.collate([qa(RED), qa(BLUE, a="a blue coat")])).logits
    torch.testing.assert_close(before, after)
    assert again.generate([RED], ["Where?"], 4) == adapter.generate([RED], ["Where?"], 4)
    # and plain transformers loads the folder too
    import transformers

    plain = transformers.AutoModelForImageTextToText.from_pretrained(tmp_path / "m")
    with torch.no_grad():
        torch.testing.assert_close(plain(**batch).logits, before)


def test_dummy_vision_zero_reaches_vision_tower_with_zero_grad(adapter):
    adapter.model.zero_grad(set_to_none=True)
    flags = {n: p.requires_grad for n, p in adapter.model.named_parameters()}
    for n, p in adapter.model.named_parameters():
        p.requires_grad_(not any(k in n for k in adapter.unused_keys))
    try:
        loss = adapter.dummy_vision_zero()
        assert loss.item() == 0.0
        loss.backward()
        vis = [p.grad for n, p in adapter.model.named_parameters()
               if adapter.part_of(n) in ("vision", "projector") and p.requires_grad]
        assert vis and all(g is not None and torch.count_nonzero(g) == 0 for g in vis)
    finally:
        for n, p in adapter.model.named_parameters():
            p.requires_grad_(flags[n])
            p.grad = None


def test_option_logprobs_match_the_training_loss(adapter):
    """Scoring an option = minus the summed token loss of that answer turn."""
    q = "What colour is the person wearing?"
    scores = adapter.option_logprobs([RED, BLUE], [q, q], [["green", "a blue coat"], ["red"]])
    assert [len(s) for s in scores] == [2, 1] and all(v < 0 for s in scores for v in s)
    batch = adapter.collate([qa(RED, q=q, a="a blue coat")])
    n = int((batch["labels"][:, 1:] != -100).sum())
    with torch.no_grad():
        loss = adapter.model(**batch).loss.item()  # mean over the n answer tokens
    assert abs(scores[0][1] + loss * n) < 1e-3 * n
    assert scores[0][0] != scores[0][1]
