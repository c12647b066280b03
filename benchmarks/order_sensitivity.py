"""Which frame positions a main-job model's temporal answers follow: the held-out temporal questions asked
again with their handed frames permuted.

    python benchmarks/order_sensitivity.py --run runs/demo [--models train,order_blind] [--limit 200]

For each model folder of a `python -m dreamframe.pipeline` run (`<run>/<model>/export`) it prints, per
permutation of the 4 handed frames, the accuracy against the recorded answer. A model that reads order
follows the clip (permuting moves its answers), a bag of frames gives every permutation the same score, and
a model whose score moves with the *visual-token groups* (Qwen2.5-VL fuses frames 1+2 and 3+4 into one
temporal patch each) but not within them reads the groups' positions, not the frames'. With 4 handed frames
[A, A, B, B] (two places, a which-first question), "swap groups" is the reversed twin's clip up to the
order inside each group.
"""

from __future__ import annotations

import argparse
import json

PERMUTATIONS = {"as handed": (0, 1, 2, 3), "reversed": (3, 2, 1, 0), "swap within groups": (1, 0, 3, 2),
                "swap groups": (2, 3, 0, 1), "interleave": (0, 2, 1, 3)}


def scores(export: str, data: str, limit: int) -> dict[str, float]:
    import numpy as np
    import torch

    from dreamframe.clip import qa_clip
    from dreamframe.dataset import DatasetFolder
    from dreamframe.prompts import question_text
    from models.registry import load_adapter

    adapter, folder = load_adapter(export), DatasetFolder(data)
    rows = [r for r in folder.load_qa("test") if r["qa_type"] == "temporal" and r["options"]][:limit]
    clips = [qa_clip(folder.root, r, adapter.trained_clip).load() for r in rows]  # the 4 frames it trained on
    prompts = [question_text(r["question"], r["options"]) for r in rows]
    out = {}
    for name, perm in PERMUTATIONS.items():
        with torch.no_grad():
            ll = adapter.option_logprobs([[c[k] for k in perm] for c in clips], prompts,
                                         [list(r["options"]) for r in rows], batch_size=128)
        picked = [list(r["options"])[int(np.argmax(x))] for r, x in zip(rows, ll)]
        out[name] = round(100 * float(np.mean([p == r["answer"] for p, r in zip(picked, rows)])), 1)
    return {"n": len(rows), **out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="output folder of python -m dreamframe.pipeline")
    parser.add_argument("--models", default="train,order_blind", help="model folders of the run, comma-separated")
    parser.add_argument("--limit", type=int, default=200, help="held-out temporal questions asked")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    for model in args.models.split(","):
        result = scores(f"{args.run}/{model}/export", f"{args.run}/data", args.limit)
        print(json.dumps({"model": model, **result}))


if __name__ == "__main__":
    main()
