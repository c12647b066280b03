"""Judge throughput: verdicts per second over a real local OpenAI-compatible HTTP server that answers
each request after a fixed latency (a stand-in for a remote API), at several client concurrencies,
then the same items again from the verdict cache; plus the lexical judge.

    python benchmarks/eval_judge_throughput.py --items 64 --latency 0.05
"""

from __future__ import annotations

import argparse
import tempfile
import time

from dreamframe.llm.config import LLMConfig
from dreamframe.llm.fake_server import FakeServer
from eval.judges import JudgeConfig, build_judge
from eval.tasks.open_qa.scoring import score_open_qa


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.05, help="server seconds per request")
    ap.add_argument("--concurrency", default="1,8,32")
    args = ap.parse_args()
    items = [{"question": f"q{i}?", "answer": f"answer {i}", "pred": f"pred {i}", "type": i % 9} for i in range(args.items)]
    with FakeServer(latency=args.latency, responder=lambda body: str({"pred": "yes", "score": 4})) as srv:
        for conc in (int(c) for c in args.concurrency.split(",")):
            with tempfile.TemporaryDirectory() as cache:
                cfg = JudgeConfig(kind="llm", cache_dir=cache, llm=LLMConfig(
                    backend="openai", base_url=srv.url, model="bench-judge", temperature=0.0, max_tokens=32,
                    response_format="none", max_concurrency=conc, max_retries=0))
                t0 = time.perf_counter()
                out = score_open_qa(build_judge(cfg), items, "activitynet_qa")
                cold = time.perf_counter() - t0
                t0 = time.perf_counter()
                score_open_qa(build_judge(cfg), items, "activitynet_qa")
                warm = time.perf_counter() - t0
            print(f"http judge  concurrency={conc:3d}: {args.items / cold:8.1f} verdicts/s cold, "
                  f"{args.items / warm:9.1f} verdicts/s from cache  (accuracy {out['accuracy']:.2f})")
    t0 = time.perf_counter()
    score_open_qa(build_judge(JudgeConfig()), items * 50, "activitynet_qa")
    print(f"lexical judge: {len(items) * 50 / (time.perf_counter() - t0):.0f} verdicts/s")


if __name__ == "__main__":
    main()
