"""Sequence packing: a packed batch gives every sample exactly the loss it has alone (attention and
positions stay inside each sample, labels only on assistant tokens), for a 1-D rope family and for
Qwen2.5-VL's 3-D rope positions; the training loss on kept logits equals the model's own loss."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from models.base import ModelConfig, Sample
from models.common import IGNORE, PACKED_LENGTHS
from models.packing import collate_packed, balanced_rows
from models.registry import build_adapter
from tests.models.test_adapters import _loud


def clip(rgb, n=4, size=32):
    return [Image.new("RGB", (size, size), tuple(int(c * (0.5 + i / (2 * n))) for c in rgb)) for i in range(n)]


def chat(q, a):
    return [{"role": "user", "content": q}, {"role": "assistant", "content": a}]


SAMPLES = [
    Sample(clip((220, 30, 30)), chat("What colour is the coat of the woman in the garden?", "red"), "v0"),
    Sample([], chat("Say yes.", "yes"), "t1"),
    Sample(clip((30, 30, 220)), chat("Where does this happen?", "at the old harbor near the bridge"), "v2"),
    Sample(clip((30, 200, 30)), chat("How many people walk?", "two"), "v3"),  # one frame count per run
    Sample([], chat("Name a colour of the sea and of the sky at night.", "blue and black"), "t4"),
]


@pytest.fixture(scope="module", params=["llava_onevision", "qwen2_5_vl"])
def adapter(request):
    ad = _loud(build_adapter(ModelConfig(family=request.param, num_frames=4, max_length=512, freeze=[],
                                         attn_implementation="sdpa", tiny={"image_size": 32, "patch_size": 8})))
    ad.model.train()  # train mode as in training; no dropout in these configs
    return ad


def token_losses(logits, labels):
    """Summed next-token cross-entropy and label count per row."""
    logp = torch.log_softmax(logits[:, :-1].float(), -1)
    target = labels[:, 1:]
    keep = target != IGNORE
    picked = logp.gather(2, target.clamp(min=0)[..., None])[..., 0] * keep
    return picked, keep


def test_packed_losses_equal_each_sample_alone(adapter):
    batch = collate_packed(adapter, SAMPLES, pack_length=300)
    rows, width = batch["input_ids"].shape
    assert rows < len(SAMPLES) and "attention_mask" not in batch
    inputs = {k: v for k, v in batch.items() if k not in ("labels", PACKED_LENGTHS)}
    with torch.no_grad():
        packed_logits = adapter.model(**inputs, use_cache=False).logits
    picked, keep = token_losses(packed_logits, batch["labels"])
    lengths = [len(adapter.encode(s)["input_ids"]) for s in SAMPLES]
    starts = {}  # sample -> (row, offset): the layout collate_packed uses
    for r, row in enumerate(balanced_rows(lengths, 300)):
        at = 0
        for i in row:
            starts[i] = (r, at)
            at += lengths[i]
    assert batch[PACKED_LENGTHS].tolist() == [lengths[i] for row in balanced_rows(lengths, 300) for i in row]
    for i, s in enumerate(SAMPLES):
        alone = adapter.collate([s])
        with torch.no_grad():
            ref_logits = adapter.model(**{k: v for k, v in alone.items() if k != "labels"}).logits
        ref_picked, ref_keep = token_losses(ref_logits, alone["labels"])
        (r, a), n = starts[i], lengths[i]
        got, got_keep = picked[r, a:a + n - 1], keep[r, a:a + n - 1]
        assert torch.equal(got_keep, ref_keep[0]), f"{s.id}: labels differ from the sample's own"
        assert got.sum().item() == pytest.approx(ref_picked.sum().item(), rel=1e-5, abs=1e-5), s.id
        kept = adapter.tokenizer.decode(batch["labels"][r, a:a + n][batch["labels"][r, a:a + n] != IGNORE])
        assert s.messages[-1]["content"] in kept


def test_qwen_positions_are_each_samples_own_rope_index():
    ad = build_adapter(ModelConfig(family="qwen2_5_vl", num_frames=4, tiny={"image_size": 32, "patch_size": 8}))
    batch = collate_packed(ad, SAMPLES[:3], pack_length=1000)
    pos = batch["position_ids"]
    assert pos.shape[:2] == (4, 1)
    at = 0
    for s in SAMPLES[:3]:
        alone = ad.collate([s])
        ref, _ = ad.model.model.get_rope_index(alone["input_ids"], alone["mm_token_type_ids"],
                                                video_grid_thw=alone.get("video_grid_thw"),
                                                second_per_grid_ts=alone.get("second_per_grid_ts"),
                                                attention_mask=alone["attention_mask"])
        n = alone["input_ids"].shape[1]
        assert torch.equal(pos[1:, 0, at:at + n], ref[:, 0]), s.id
        assert torch.equal(pos[0, 0, at:at + n], torch.arange(n))
        at += n


def test_training_loss_on_kept_logits_equals_the_models_loss(adapter):
    batch = adapter.collate(SAMPLES)
    with torch.no_grad():
        ours = adapter.forward(batch).loss
        theirs = adapter.model(**batch).loss
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-5)


def test_balanced_rows_never_splits_and_names_an_oversized_sample():
    assert balanced_rows([5, 3, 4, 2], 7) == [[0, 3], [1, 2]]
    # 16 samples of 82 tokens in rows of 256: not 5 full rows + 1 short one (17% padding), nor 6 rows of 2-3
    # (11%), but 8 rows of 2 (none)
    assert balanced_rows([82] * 16, 256) == [[i, i + 8] for i in range(8)]
    assert balanced_rows([9, 1, 1], 10) == [[0], [1, 2]]
    with pytest.raises(ValueError, match="'big'.*data.pack_length=4"):
        balanced_rows([3, 9], 4, ["small", "big"])
