"""Sequence packing for training: the samples of a batch concatenated into rows of at most `pack_length`
tokens instead of one padded row each (`data.packing: true`).

Every sample stays isolated: there is no attention_mask, and `position_ids` restart at 0 for every
sample, from which transformers builds a block-diagonal causal mask (sdpa / eager,
`masking_utils.find_packed_sequence_indices`) or runs flash-attn's varlen kernel - the convention of
transformers' `DataCollatorWithFlattening`. Qwen2.5-VL's 3-D rope positions are each sample's own
`get_rope_index`, with the 1-D text positions on top ([4, rows, width]), which its text model reads to
build the same mask. Labels are the assistant tokens only, and the first label of every sample is -100,
so no sample is trained to predict the next one's first token.
"""

from __future__ import annotations

from typing import Any

from models.base import Sample, VideoLVLMAdapter
from models.common import IGNORE, PACKED_LENGTHS


def balanced_rows(lengths: list[int], pack_length: int, ids: list[str] | None = None) -> list[list[int]]:
    """Sample indices per row, rows of at most `pack_length` tokens: a longest-first, least-loaded-row
    assignment for a few row counts from the fewest that fit, keeping the one with the fewest padded slots
    (rows x longest row) when the rows are stacked; data order kept inside a row. A sample is never
    split: one longer than `pack_length` is an error naming it."""
    for i, n in enumerate(lengths):
        if n > pack_length:
            raise ValueError(f"sample {ids[i] if ids else i!r} is {n} tokens > data.pack_length={pack_length}")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    fewest = max(1, -(-sum(lengths) // pack_length))
    best: tuple[int, list[list[int]]] | None = None
    for count in range(fewest, min(len(lengths), fewest + 3) + 1):
        rows: list[list[int]] = [[] for _ in range(count)]
        load = [0] * count
        for i in order:
            r = min(range(count), key=load.__getitem__)
            rows[r].append(i)
            load[r] += lengths[i]
        if max(load) <= pack_length and (best is None or count * max(load) < best[0]):
            best = (count * max(load), [sorted(row) for row in rows if row])
    if best is None:  # the fewest rows did not fit by this greedy assignment: one sample per row always does
        return [[i] for i in range(len(lengths))]
    return best[1]


def collate_packed(adapter: VideoLVLMAdapter, samples: list[Sample], pack_length: int) -> dict[str, Any]:
    """A training batch of packed rows for `adapter.forward` (with flash_attention_2: one row, as its
    varlen path needs batch size 1)."""
    import torch

    enc = [adapter.encode(s, train=True) for s in samples]
    rows = balanced_rows([len(e["input_ids"]) for e in enc], pack_length, [s.id for s in samples])
    if adapter.model.config._attn_implementation == "flash_attention_2":
        rows = [[i for row in rows for i in row]]
    order = [i for row in rows for i in row]
    width = max(sum(len(enc[i]["input_ids"]) for i in row) for row in rows)
    input_ids = torch.full((len(rows), width), adapter.tokenizer.pad_token_id, dtype=torch.long)
    labels = torch.full_like(input_ids, IGNORE)
    positions = []
    for r, row in enumerate(rows):
        at, pos = 0, []
        for i in row:
            ids = enc[i]["input_ids"]
            input_ids[r, at:at + len(ids)] = torch.tensor(ids)
            labels[r, at + 1:at + len(ids)] = torch.tensor(enc[i]["labels"][1:])
            pos.append(adapter.sample_positions(ids, samples[i].frames))
            at += len(ids)
        if at < width:  # the row's padding forms a block of its own
            pos.append(adapter.sample_positions([adapter.tokenizer.pad_token_id] * (width - at), []))
        positions.append(torch.cat(pos, dim=-1))
    batch: dict[str, Any] = {"input_ids": input_ids, "labels": labels, "position_ids": torch.stack(positions, dim=-2),
                             PACKED_LENGTHS: torch.tensor([len(enc[i]["input_ids"]) for i in order])}
    videos = adapter._videos([samples[i] for i in order])
    if videos:
        batch.update(adapter.video_inputs(videos))
    batch.update(adapter.extra_inputs(input_ids))
    return batch
