"""Requests/s of the OpenAI-compatible client against a local server with a fixed artificial latency.

    python benchmarks/llm_throughput.py                      # latency 0.2 s, concurrency 1, 8, 32
    python benchmarks/llm_throughput.py --latency 0.5 --requests-per-slot 4

With latency L and concurrency c, an ideal client reaches c / L requests/s; the target is 0.8 x that.
The server (dreamframe.llm.fake_server) is a real HTTP/1.1 server on 127.0.0.1, one thread per connection,
in a separate process.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time

from dreamframe.llm import LLMConfig, build_client
from dreamframe.llm.fake_server import FakeServer

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


def serve(latency: float, urls: mp.Queue, stop: mp.Event) -> None:
    """The server runs in its own process, so its threads do not share the client's GIL."""
    with FakeServer(latency=latency) as srv:
        urls.put(srv.url)
        stop.wait()


def measure(latency: float, concurrency: int, n: int) -> float:
    ctx = mp.get_context("spawn")
    urls, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=serve, args=(latency, urls, stop), daemon=True)
    proc.start()
    try:
        client = build_client(LLMConfig(backend="openai", base_url=urls.get(timeout=60), model="bench",
                                        max_concurrency=concurrency, max_retries=0))
        client.chat_many(["warm-up"] * concurrency, schema=SCHEMA)  # open the connections
        t = time.perf_counter()
        out = client.chat_many([f"question {i}" for i in range(n)], schema=SCHEMA)
        elapsed = time.perf_counter() - t
    finally:
        stop.set()
        proc.join(10)
    failed = [r for r in out if isinstance(r, Exception)]
    if failed:
        raise SystemExit(f"{len(failed)} requests failed, first: {failed[0]}")
    return n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latency", type=float, default=0.2, help="server latency per request, seconds")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--requests-per-slot", type=int, default=8, help="requests = this x concurrency")
    args = ap.parse_args()
    print(f"latency {args.latency:.3f} s; target = 0.8 x concurrency / latency")
    print(f"{'concurrency':>11} {'requests':>8} {'req/s':>8} {'ideal':>8} {'target':>8}  ok")
    for c in args.concurrency:
        n = c * args.requests_per_slot
        rps = measure(args.latency, c, n)
        ideal = c / args.latency
        print(f"{c:>11} {n:>8} {rps:>8.1f} {ideal:>8.1f} {0.8 * ideal:>8.1f}  {'yes' if rps >= 0.8 * ideal else 'NO'}")


if __name__ == "__main__":
    main()
