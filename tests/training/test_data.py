"""Data order, mixing, length grouping, mid-epoch skipping and the sources; one short packed training run."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from dreamframe.clip import ClipSpec
from training.data import LengthGroupedBatchSampler, epoch_order, folder_items, json_items, padding_fraction


def test_mixing_ratios_and_determinism():
    sizes, weights = [100, 10], [3.0, 1.0]
    order = epoch_order(sizes, weights, total=200, seed=1, epoch=0)
    counts = Counter(int(i >= 100) for i in order)
    assert counts == {0: 150, 1: 50}  # 3:1 share, the small source cycled 5 times
    assert Counter(order[order >= 100].tolist()) == {i: 5 for i in range(100, 110)}
    assert np.array_equal(order, epoch_order(sizes, weights, 200, 1, 0))
    assert not np.array_equal(order, epoch_order(sizes, weights, 200, 1, 1))
    with pytest.raises(ValueError, match="weights"):
        epoch_order(sizes, [0, 0], 10, 0, 0)


def test_a_source_joins_the_mix_at_its_start_epoch():
    """A curriculum: source 1 (start_epoch 1) is not drawn in epoch 0, which is all source 0; from epoch 1
    the two share every epoch 1:1. A config whose epoch-0 sources have no weight is refused by name."""
    from training.config import DataConfig, SourceConfig

    kw = dict(lengths=[10] * 60, sizes=[40, 20], weights=[1.0, 1.0], total=40, batch_size=4, seed=0)
    sampler = LengthGroupedBatchSampler(start_epochs=[0, 1], **kw)
    drawn = [Counter(int(i >= 40) for b in sampler.global_batches(e) for i in b) for e in (0, 1, 2)]
    assert drawn == [{0: 40}, {0: 20, 1: 20}, {0: 20, 1: 20}]
    assert LengthGroupedBatchSampler(**kw).global_batches(0) != sampler.global_batches(0)
    with pytest.raises(ValueError, match="start_epoch 0"):
        DataConfig(sources=[SourceConfig(path="a", weight=0.0), SourceConfig(path="b", start_epoch=1)])


def test_length_grouping_cuts_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(60, 200, size=2000).tolist()
    kw = dict(sizes=[2000], weights=[1.0], total=2000, batch_size=8, seed=0)
    grouped = LengthGroupedBatchSampler(lengths, group_by_length=True, **kw).global_batches(0)
    plain = LengthGroupedBatchSampler(lengths, group_by_length=False, **kw).global_batches(0)
    assert sorted(i for b in grouped for i in b) == sorted(i for b in plain for i in b) == list(range(2000))
    assert padding_fraction(grouped, lengths) < 0.05 < padding_fraction(plain, lengths)


def test_resume_skip_and_rank_split():
    lengths = list(range(10, 110))
    kw = dict(sizes=[100], weights=[1.0], total=100, batch_size=4, seed=3, window=4)
    full = list(LengthGroupedBatchSampler(lengths, **kw))
    resumed = LengthGroupedBatchSampler(lengths, **kw)
    resumed.skip = 7
    assert list(resumed) == full[7:]
    assert list(resumed) == full  # the skip applies to one pass only
    resumed.skip, resumed.skip_epoch = len(full), 0  # saved at the last batch of epoch 0 ...
    resumed.set_epoch(1)  # ... and Lightning moved on to epoch 1: nothing of it is skipped
    assert len(list(resumed)) == len(full)
    from lightning.fabric.utilities.data import _set_sampler_epoch
    from torch.utils.data import DataLoader

    loader = DataLoader(list(range(100)), batch_sampler=LengthGroupedBatchSampler(lengths, **kw))
    _set_sampler_epoch(loader, 5)  # what Lightning calls at each epoch start
    assert loader.batch_sampler.epoch == 5
    ranks = [list(LengthGroupedBatchSampler(lengths, world_size=2, rank=r, **kw)) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == len(LengthGroupedBatchSampler(lengths, world_size=2, **kw)) == 12
    assert not {i for b in ranks[0] for i in b} & {i for b in ranks[1] for i in b}


def test_dataset_folder_and_llava_json_sources(tiny_data, tmp_path):
    import subprocess
    import sys

    clip = ClipSpec(4)
    items = folder_items(str(tiny_data), "train", clip)
    assert items and all(len(it.frames) == 4 and it.messages[-1]["role"] == "assistant" for it in items)
    closed = next(it for it in items if "Options:" in it.messages[0]["content"])
    assert "(A)" in closed.messages[0]["content"]
    out = tmp_path / "llava.json"
    subprocess.run([sys.executable, "-m", "data_gen.export", "--in", str(tiny_data), "--out", str(out)], check=True,
                   capture_output=True)
    from_json = json_items(str(out), None, clip)
    assert len(from_json) == len(items)
    assert all(len(it.frames) == 4 and not it.messages[0]["content"].startswith("<video>") for it in from_json)
    assert {it.messages[-1]["content"] for it in from_json} == {it.messages[-1]["content"] for it in items}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "x1", "conversations": [{"value": "hi"}]}]))
    with pytest.raises(Exception, match="x1"):
        json_items(str(bad), None, clip)
    from training.config import SourceConfig
    from training.data import source_items

    with pytest.raises(Exception, match="turns: clip is for dataset folders"):
        source_items(SourceConfig(path=str(out), turns="clip"), clip)


def test_packed_training_counts_real_tokens_and_refuses_short_rows(tiny_data, tmp_path):
    """data.packing through training.train: 3 steps on packed rows; throughput counts samples and real
    tokens, not rows and slots; a pack_length shorter than a sample is an error naming the option."""
    from dreamframe.config import parse_config
    from tests.training.conftest import tiny_overrides
    from training.config import TrainConfig
    from training.train import run

    def cfg(out, pack_length):
        return parse_config(TrainConfig, tiny_overrides(tiny_data, out, **{
            "max_steps": 3, "export": "false", "data.packing": "true", "data.pack_length": pack_length,
            "data.group_by_length": "false"}), prog="test", description="")

    summary = run(cfg(tmp_path / "packed", 512))
    assert summary["global_step"] == 3
    tp = summary["throughput"]
    assert tp["samples_per_s"] > 0 and 0 <= tp["padding_fraction"] < 0.2
    losses = [json.loads(line)["loss"] for line in (tmp_path / "packed" / "loss.jsonl").read_text().splitlines()]
    assert len(losses) == 3 and all(v == v and v > 0 for v in losses)
    with pytest.raises(ValueError, match="data.pack_length=20 is shorter than sample"):
        run(cfg(tmp_path / "short", 20))


def test_turns_clip_merges_the_questions_of_one_clip_into_one_multi_turn_sample(tiny_data):
    """`turns: clip`: every question of the source is still asked, once, after its own clip's frames; rows
    of one clip become one sample (fewer samples, the same turns), in an order fixed by the seed."""
    clip = ClipSpec(4)
    single = folder_items(str(tiny_data), "train", clip)
    merged = folder_items(str(tiny_data), "train", clip, seed=0, turns="clip")
    assert len(merged) < len(single)
    def turns(msgs):
        return [(msgs[k]["content"], msgs[k + 1]["content"]) for k in range(0, len(msgs), 2)]

    for it in merged:  # each turn belongs to a question whose clip (frames and order) is this sample's
        own = {turns(s.messages)[0] for s in single if s.clip == it.clip}
        assert set(turns(it.messages)) <= own
    assert sorted(t for it in merged for t in turns(it.messages)) == sorted(turns(s.messages)[0] for s in single)
    assert any(len(it.messages) > 2 for it in merged)
    again = folder_items(str(tiny_data), "train", clip, seed=0, turns="clip")
    assert [it.messages for it in again] == [it.messages for it in merged]
    other = folder_items(str(tiny_data), "train", clip, seed=1, turns="clip")
    assert [it.messages for it in other] != [it.messages for it in merged]
    with pytest.raises(ValueError, match="turns"):
        folder_items(str(tiny_data), "train", clip, turns="movie")


def test_order_shuffled_reorders_each_clips_own_frames_the_same_way_every_time(tiny_data):
    """The order-blind control: every sample gets the frames the tuned model sees, in another order fixed by
    (seed, sample id) - never frames of another clip, never the original order."""
    from training.data import ItemDataset

    clip = ClipSpec(4)
    matched = folder_items(str(tiny_data), "train", clip)
    shuffled = folder_items(str(tiny_data), "train", clip, frames="order_shuffled", seed=0)
    assert [it.id for it in shuffled] == [it.id for it in matched]
    assert all(it.clip == m.clip and it.messages == m.messages for it, m in zip(shuffled, matched))
    assert all(sorted(it.order) == [0, 1, 2, 3] and it.order != (0, 1, 2, 3) for it in shuffled)
    assert len({it.order for it in shuffled}) > 1  # not one fixed permutation for every clip
    again = folder_items(str(tiny_data), "train", clip, frames="order_shuffled", seed=0)
    assert [it.order for it in again] == [it.order for it in shuffled]
    other_seed = folder_items(str(tiny_data), "train", clip, frames="order_shuffled", seed=1)
    assert [it.order for it in other_seed] != [it.order for it in shuffled]
    # what the model is fed: the matched sample's frames, permuted within the clip
    first, plain = ItemDataset(shuffled)[0], ItemDataset(matched)[0]
    pixels = [np.asarray(f).tobytes() for f in plain.frames]
    assert [np.asarray(f).tobytes() for f in first.frames] == [pixels[k] for k in shuffled[0].order]
    with pytest.raises(ValueError, match="order_shuffled"):
        folder_items(str(tiny_data), "train", clip, frames="reversed")
