"""Learnability probe: train a tiny random-init adapter on a dataset folder's closed questions in a bare loop
(no Lightning) and print held-out option-likelihood accuracy per question type, beside chance, the majority
answer, and - with --blind - the same run on frames of other movies. Quick to iterate on sizes, families,
frames and rendering before committing a setting to configs/train/tiny_cpu.yaml.

    python -m data_gen.generate --config configs/data_gen/demo_cpu.yaml --out /tmp/demo
    python benchmarks/models_learn.py /tmp/demo --family qwen2_5_vl --image-size 32 --steps 2000
    python benchmarks/models_learn.py /tmp/demo --family qwen2_5_vl --image-size 32 --steps 2000 --blind
    python benchmarks/models_learn.py /tmp/demo --family llava_onevision --freeze vision --eval-every 1000
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    ap.add_argument("data")
    ap.add_argument("--family", default="qwen2_5_vl")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--patch-size", type=int, default=8)
    ap.add_argument("--num-frames", type=int, default=4)
    ap.add_argument("--freeze", default="", help="comma-separated parts kept frozen: vision, projector, llm")
    ap.add_argument("--types", default="", help="comma-separated qa_types to keep (default: every closed type)")
    ap.add_argument("--tiny", default="{}", help="JSON overrides of ModelConfig.tiny")
    ap.add_argument("--blind", action="store_true", help="train on the frames of other movies (the blind control)")
    ap.add_argument("--eval-max", type=int, default=1200, help="held-out questions scored (a seeded sample)")
    ap.add_argument("--eval-every", type=int, default=0, help="also score every N steps (0: only at the end)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (tiny models: 1 is fastest)")
    args = ap.parse_args()

    import torch
    from PIL import Image

    from dreamframe import scoring
    from dreamframe.dataset import DatasetFolder
    from dreamframe.frames import sample_indices
    from dreamframe.prompts import question_text
    from models.base import ModelConfig, Sample
    from models.registry import build_adapter
    from training.data import other_movie_donors

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rnd = random.Random(0)
    folder = DatasetFolder(args.data)
    types = set(filter(None, args.types.split(",")))
    train, test = ([r for r in folder.load_qa(split) if r["options"] and (not types or r["qa_type"] in types)]
                   for split in ("train", "test"))
    rnd.shuffle(test)
    test = test[:args.eval_max]
    donor = other_movie_donors([r["movie_id"] for r in train], 0) if args.blind else list(range(len(train)))
    cache: dict[tuple[str, ...], list] = {}

    def frames(row: dict) -> list:
        key = tuple(row["frame_paths"])
        if key not in cache:
            idx = sample_indices(len(key), args.num_frames, "segment_centre")
            cache[key] = [Image.open(folder.root / key[i]).convert("RGB") for i in idx]
        return cache[key]

    tiny = {"image_size": args.image_size, "patch_size": args.patch_size, "corpus": [args.data], **json.loads(args.tiny)}
    adapter = build_adapter(ModelConfig(family=args.family, num_frames=args.num_frames, max_length=2048,
                                        freeze=[f for f in args.freeze.split(",") if f], tiny=tiny))
    controls = scoring.controls(train, test)
    label = f"{args.family} {args.image_size}px x{args.num_frames}" + (" BLIND" if args.blind else "")

    def report(when: str) -> None:
        adapter.model.eval()
        records = []
        for i in range(0, len(test), 32):
            chunk = test[i:i + 32]
            logliks = adapter.option_logprobs([frames(r) for r in chunk],
                                              [question_text(r["question"], r["options"]) for r in chunk],
                                              [r["options"] for r in chunk], batch_size=64)
            records += [{"qa_type": r["qa_type"], **scoring.closed_metrics(r["options"], r["answer"], ll)}
                        for r, ll in zip(chunk, logliks)]
        adapter.model.train()
        out = scoring.summarise(records, ("acc",))
        per = " ".join(f"{t}={b['acc']:.0f}" for t, b in out["per_type"].items())
        print(f"[{label}] {when}: acc {out['acc']:.1f} {out['acc_ci']} | {per}", flush=True)

    per = " ".join(f"{t}={b['acc']:.0f}" for t, b in controls["majority"]["per_type"].items())
    print(f"[{label}] {len(train)} train / {len(test)} test closed questions; chance {controls['chance']['acc']:.1f}, "
          f"majority {controls['majority']['acc']:.1f} | {per}", flush=True)
    trainable = [p for p in adapter.model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / args.warmup) * (
        0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / args.steps)))))
    adapter.model.train()
    started, order = time.perf_counter(), []
    for step in range(1, args.steps + 1):
        if len(order) < args.batch:
            order += rnd.sample(range(len(train)), len(train))
        idx, order = order[:args.batch], order[args.batch:]
        batch = [Sample(frames(train[donor[i]]), [
            {"role": "user", "content": question_text(train[i]["question"], train[i]["options"])},
            {"role": "assistant", "content": train[i]["answer"]}], train[i]["id"]) for i in idx]
        loss = adapter.forward(adapter.to_device(adapter.collate(batch))).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        sched.step()
        if step % 250 == 0:
            print(f"[{label}] step {step} loss {loss.item():.3f} ({time.perf_counter() - started:.0f} s)", flush=True)
        if args.eval_every and step % args.eval_every == 0 and step < args.steps:
            report(f"step {step}")
    report(f"after {args.steps} steps")


if __name__ == "__main__":
    main()
