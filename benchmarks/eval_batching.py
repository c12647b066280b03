"""Batched generation in the eval harness: same answers as batch size 1, and how much faster.

    python benchmarks/eval_batching.py                    # tiny LLaVA-OneVision, 32 questions, batch 1 vs 8,
                                                          # MVBench's protocol: 16 frames, up to 100 new tokens
    python benchmarks/eval_batching.py --n 64 --batch 16 --model tiny-llava_next_video

Runs `eval.lm.DreamFrameLM.generate_until` (the path `eval.run` uses: Clip decoding, left-padded
batches, greedy) on prompts of different lengths, and prints both wall times, the speed-up and
whether every answer matched. With short answers (--max-new-tokens 16) the tiny model's prefill
dominates and the gain is smaller; the script prints whatever it measures. Exits 1 when answers differ or the speed-up is under --min-speedup.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def make_requests(n: int, folder: Path, num_frames: int):
    import numpy as np
    from lm_eval.api.instance import Instance
    from PIL import Image

    from dreamframe.video import encode_video
    from dreamframe.clip import Clip

    rng = np.random.default_rng(0)
    reqs = []
    for i in range(n):
        path = folder / f"v{i}.mp4"
        encode_video([Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)) for _ in range(12)], path, fps=4)
        words = " ".join(["really"] * int(rng.integers(0, 12)))
        prompt = f"Question {i}: what is {words} happening in this video?\nOptions:\n(A) a\n(B) b\nOnly give the best option."
        ref = Clip(str(path), num_frames=num_frames)
        args = (prompt, {"until": [], "max_gen_toks": 0, "do_sample": False}, {"visual": [ref]})
        reqs.append(Instance(request_type="generate_until", doc={}, arguments=args, idx=0,
                             metadata=("bench", i, 1)))
    return reqs


def timed(lm, reqs) -> tuple[list[str], float]:
    t0 = time.perf_counter()
    out = lm.generate_until(reqs, disable_tqdm=True)
    return out, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="tiny-llava_onevision")
    ap.add_argument("--n", type=int, default=32, help="questions")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=100,
                    help="a random-init model never stops early, so every answer is this long")
    ap.add_argument("--min-speedup", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch intra-op threads (1: a tiny model gains nothing from more, and loses a lot on a busy machine)")
    args = ap.parse_args()

    import torch

    from eval.lm import DreamFrameLM
    from eval.models import build

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    adapter, info = build(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        reqs = make_requests(args.n, Path(tmp), args.frames)
        for r in reqs:
            r.arguments[1]["max_gen_toks"] = args.max_new_tokens
        timed(DreamFrameLM(adapter, batch_size=args.batch, progress=False), reqs[: args.batch])  # warm-up
        c0 = time.process_time()
        one, t1 = timed(DreamFrameLM(adapter, batch_size=1, progress=False), reqs)
        c1 = time.process_time()
        many, tb = timed(DreamFrameLM(adapter, batch_size=args.batch, progress=False), reqs)
        c2 = time.process_time()
    same = sum(a == b for a, b in zip(one, many))
    speedup = t1 / tb
    print(f"model {args.model} ({info['model_fingerprint']}), {args.n} questions, {args.frames} frames, "
          f"{args.max_new_tokens} new tokens, torch threads {torch.get_num_threads()}")
    print(f"batch 1: {t1:.2f} s wall, {c1 - c0:.2f} s CPU ({args.n / t1:.2f} q/s)")
    print(f"batch {args.batch}: {tb:.2f} s wall, {c2 - c1:.2f} s CPU ({args.n / tb:.2f} q/s)")
    print(f"speed-up: {speedup:.2f}x wall, {(c1 - c0) / (c2 - c1):.2f}x CPU (target >= {args.min_speedup}x wall); "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"identical answers: {same}/{args.n}")
    for a, b in zip(one, many):
        if a != b:
            print(f"  differs: batch1={a!r} batch{args.batch}={b!r}")
            break
    return 0 if same == args.n and speedup >= args.min_speedup else 1


if __name__ == "__main__":
    sys.exit(main())
