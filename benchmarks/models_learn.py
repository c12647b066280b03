"""Learnability probe of a tiny random-init adapter on a DreamFrame dataset folder: trains on the closed
(multiple-choice) QA of the train split, prints held-out accuracy before/after, overall and per qa_type.

    python -m data_gen.generate --config configs/data_gen/tiny.yaml --num_movies 120 --out /tmp/d120
    python benchmarks/models_learn.py /tmp/d120 --family llava_onevision --steps 400 --image-size 32
    python benchmarks/models_learn.py /tmp/d120 --types colour,location --tiny '{"hidden_size": 128}'
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("--family", default="llava_onevision")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--num-frames", type=int, default=4)
    ap.add_argument("--types", default="", help="comma-separated qa_types to keep (default: all closed)")
    ap.add_argument("--tiny", default="{}", help="JSON overrides of ModelConfig.tiny")
    ap.add_argument("--eval-max", type=int, default=400, help="held-out questions scored (first N)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (tiny models: 1 is fastest, and steady on a shared machine)")
    args = ap.parse_args()

    import torch
    from PIL import Image

    from dreamframe.dataset import DatasetFolder
    from models.base import ModelConfig, Sample
    from models.registry import build_adapter

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rnd = random.Random(0)
    ds = DatasetFolder(args.data)
    types = set(filter(None, args.types.split(",")))

    def rows(split):
        return [r for r in ds.load_qa(split) if r["closed"] and (not types or r["qa_type"] in types)]

    def prompt(r):
        return f"{r['question']} Options: {', '.join(r['options'])}. Answer with one option."

    cache: dict = {}

    def frames(r):
        key = tuple(r["frame_paths"])
        if key not in cache:
            cache[key] = [Image.open(f"{args.data}/{p}").convert("RGB") for p in key]
        return cache[key]

    tiny = {"image_size": args.image_size, "patch_size": 8, "corpus": [args.data], **json.loads(args.tiny)}
    a = build_adapter(ModelConfig(family=args.family, num_frames=args.num_frames, max_length=2048, freeze=[], tiny=tiny))
    train, test = rows("train"), rows("test")
    rnd.shuffle(test)
    test = test[:args.eval_max]

    def accuracy(items, label):
        """Generation (answer starts with the reference) and option likelihood (best-scored option)."""
        for mode in ("generate", "likelihood"):
            hits, per, tot = 0, Counter(), Counter()
            for i in range(0, len(items), 32):
                chunk = items[i:i + 32]
                fr, pr = [frames(r) for r in chunk], [prompt(r) for r in chunk]
                if mode == "generate":
                    outs = a.generate(fr, pr, max_new_tokens=4)
                    oks = [o.strip().lower().startswith(r["answer"].lower()) for o, r in zip(outs, chunk)]
                else:
                    scores = a.option_logprobs(fr, pr, [r["options"] for r in chunk])
                    oks = [r["options"][max(range(len(s)), key=s.__getitem__)] == r["answer"]
                           for s, r in zip(scores, chunk)]
                for ok, r in zip(oks, chunk):
                    hits, per[r["qa_type"]], tot[r["qa_type"]] = hits + ok, per[r["qa_type"]] + ok, tot[r["qa_type"]] + 1
            print(f"{label} [{mode}]: {hits / len(items):.3f} " +
                  " ".join(f"{k}={per[k] / tot[k]:.2f}" for k in sorted(tot)), flush=True)

    chance = sum(1 / len(r["options"]) for r in test) / len(test)
    print(f"{args.family}: {len(train)} train / {len(test)} test closed QA, chance {chance:.3f}, "
          f"{sum(p.numel() for p in a.model.parameters())} params", flush=True)
    accuracy(test, "held-out before")
    opt = torch.optim.AdamW(a.model.parameters(), lr=args.lr)
    a.model.train()
    t = time.perf_counter()
    for step in range(args.steps):
        batch = [Sample(frames(r), [{"role": "user", "content": prompt(r)}, {"role": "assistant", "content": r["answer"]}],
                        r["id"]) for r in rnd.sample(train, args.batch)]
        loss = a.forward(a.collate(batch)).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item():.3f} ({time.perf_counter() - t:.0f} s)", flush=True)
    a.model.eval()
    accuracy(train[:200], "train after")
    accuracy(test, "held-out after")


if __name__ == "__main__":
    main()
