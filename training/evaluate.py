"""A simple built-in held-out check: multiple-choice accuracy on a dataset folder's test split.

The model answers each closed question by greedy generation (the prompt lists the options, as in
training), twice: constrained to the option strings (greedy decoding over a token trie of the
options, so every answer is one of them and an untrained model sits at chance) - `accuracy` - and
free-form - `free_accuracy`, where an answer naming no option counts as wrong. Chance is the mean of
1/len(options), measured on the real option counts, not assumed. The eval harness (eval/)
is the full evaluation; this one only tells whether training moved the model.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from dreamframe.dataset import DatasetFolder
from dreamframe.frames import sample_indices
from training.data import question_text


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def match_option(answer: str, options: list[str]) -> int | None:
    """Index of the option the answer names: exact text, else the option mentioned first (longest wins a
    tie), else a leading option letter such as "(B)" or "B."; None when it names none."""
    got = _norm(answer)
    norms = [_norm(o) for o in options]
    if got in norms:
        return norms.index(got)
    padded = f" {got} "
    hits = [(padded.find(f" {o} "), -len(o), i) for i, o in enumerate(norms) if o and f" {o} " in padded]
    if hits:
        return min(hits)[2]
    letter = re.match(r"\s*\(?([A-Z])[).:\s]", answer + " ")
    if letter and ord(letter.group(1)) - 65 < len(options):
        return ord(letter.group(1)) - 65
    return None


def option_constraint(tokenizer: Any, options_per_row: list[list[str]]):
    """`prefix_allowed_tokens_fn` for transformers' generate: row b may only spell one of its options,
    then end. The prompt length is taken from the first call (the batch is left-padded to one width)."""
    eos = tokenizer.eos_token_id
    seqs = [[tokenizer(o, add_special_tokens=False)["input_ids"] + [eos] for o in opts] for opts in options_per_row]
    state: dict[str, int] = {}

    def allowed(b: int, input_ids: Any) -> list[int]:
        start = state.setdefault("prompt_len", int(input_ids.shape[-1]))
        done = input_ids[start:].tolist()
        nxt = {s[len(done)] for s in seqs[b] if len(s) > len(done) and s[:len(done)] == done}
        return sorted(nxt) or [eos]

    return allowed


def mc_accuracy(adapter: Any, dataset: str, split: str = "test", batch_size: int = 8, max_new_tokens: int = 8,
                max_samples: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Accuracy, chance level and per-type accuracy of greedy answers to the split's closed questions."""
    import torch
    from PIL import Image
    from tqdm import tqdm

    cfg = adapter.cfg
    folder = DatasetFolder(dataset)
    rows = [r for r in folder.load_qa(split) if r["options"]]
    rows = rows[:max_samples] if max_samples else rows
    if not rows:
        raise ValueError(f"{dataset}: split {split!r} has no closed (multiple-choice) questions to evaluate")
    was_training = adapter.model.training
    adapter.model.eval()
    correct, free_correct, unmatched, by_type = 0, 0, 0, defaultdict(lambda: [0, 0])
    tok = getattr(adapter.tokenizer, "tokenizer", adapter.tokenizer)
    examples = []
    try:
        for i in tqdm(range(0, len(rows), batch_size), desc="held-out eval", disable=not progress):
            batch = rows[i:i + batch_size]
            frames = []
            for r in batch:
                span = r["frame_paths"]
                idx = sample_indices(len(span), cfg.num_frames, cfg.frame_sampling)
                frames.append([Image.open(folder.root / span[k]).convert("RGB") for k in idx])
            prompts = [question_text(r["question"], r["options"]) for r in batch]
            with torch.no_grad():
                free = adapter.generate(frames, prompts, max_new_tokens=max_new_tokens)
                picked = adapter.generate(frames, prompts, max_new_tokens=max_new_tokens, prefix_allowed_tokens_fn=
                                          option_constraint(tok, [list(r["options"]) for r in batch]))
            for r, ans, con in zip(batch, free, picked):
                pick = match_option(ans, list(r["options"]))
                free_correct += pick is not None and r["options"][pick] == r["answer"]
                unmatched += pick is None
                ok = _norm(con) == _norm(r["answer"])
                correct += ok
                by_type[r["qa_type"]][0] += ok
                by_type[r["qa_type"]][1] += 1
                if len(examples) < 5:
                    examples.append({"question": r["question"], "answer": r["answer"], "constrained": con,
                                     "free": ans})
    finally:
        adapter.model.train(was_training)
    n = len(rows)
    return {
        "accuracy": correct / n,
        "free_accuracy": free_correct / n,
        "chance": sum(1 / len(r["options"]) for r in rows) / n,
        "n": n,
        "unmatched": unmatched,
        "by_type": {k: {"accuracy": c / t, "n": t} for k, (c, t) in sorted(by_type.items())},
        "dataset": str(dataset), "split": split,
        "frame_sampling": {"rule": cfg.frame_sampling, "num_frames": cfg.num_frames},
        "examples": examples,
    }
