"""The built-in held-out check: a dataset folder's closed test questions, scored by `dreamframe.scoring`.

Each question is asked with its options in the prompt (the training wording) and scored two ways, the
same as the eval harness (`python -m eval.run --tasks dreamframe_heldout`) scores it: by option
log-likelihood (`acc`, `acc_norm`, lm-eval's multiple-choice protocol) and by free generation matched
to an option (`free_acc`), and twins of a minimal pair (rows sharing a `pair_id`) also as pairs
(`pair_acc`). Chance and the majority answer of each qa_type in the train split are reported beside it. The eval harness is the full evaluation; this one tells whether training moved
the model, without leaving the training job.
"""

from __future__ import annotations

from typing import Any

from dreamframe import scoring
from dreamframe.clip import ClipSpec, qa_clip
from dreamframe.dataset import DatasetFolder
from dreamframe.prompts import question_text
from models.base import VideoLVLMAdapter


def heldout_check(adapter: VideoLVLMAdapter, dataset: str, clip: ClipSpec, split: str = "test", batch_size: int = 32,
                  max_new_tokens: int = 6, max_samples: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Percent scores (with 95% intervals, overall and per qa_type) of the split's closed questions, each
    asked on the frames `clip` picks (the training run's, so the check sees what training saw)."""
    import torch
    from tqdm import tqdm

    folder = DatasetFolder(dataset)
    rows = [r for r in folder.load_qa(split) if r["options"]]
    rows = rows[:max_samples] if max_samples else rows
    if not rows:
        raise ValueError(f"{dataset}: split {split!r} has no closed (multiple-choice) questions to evaluate")
    records = []
    for i in tqdm(range(0, len(rows), batch_size), desc="held-out check", disable=not progress):
        batch = rows[i:i + batch_size]
        frames = [qa_clip(folder.root, r, clip).load() for r in batch]
        prompts = [question_text(r["question"], r["options"]) for r in batch]
        with torch.no_grad():
            free = adapter.generate(frames, prompts, max_new_tokens=max_new_tokens)
            logliks = adapter.option_logprobs(frames, prompts, [list(r["options"]) for r in batch],
                                              batch_size=batch_size * 4)
        for r, text, ll in zip(batch, free, logliks):
            records.append({"id": r["id"], "qa_type": r["qa_type"], "pair_id": r.get("pair_id"), "free": text,
                            **scoring.closed_metrics(list(r["options"]), r["answer"], ll, text)})
    train = folder.load_qa("train") if split != "train" else rows
    return {**scoring.summarise(records), **{k: v["acc"] for k, v in scoring.controls(train, rows).items()},
            "dataset": str(dataset), "split": split,
            "frame_sampling": clip.as_dict(),
            "examples": records[:5]}
