"""Time the leaderboard and the dataset report at realistic sizes; prints the figures.

    python benchmarks/reports_speed.py                 # 8 models x (MVBench 20x200 + 4 open-QA x 2,000)
    python benchmarks/reports_speed.py --models 4 --bootstrap 2000 --movies 48

Leaderboard: bootstrap over every per-sample log (MVBench stratified over its 20 tasks).
Dataset report: a procedural dataset (the default generation config) of --movies movies.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.eval.fixtures import MVBENCH_TASKS, binary, write_results  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=8)
    ap.add_argument("--per-task", type=int, default=200, help="MVBench questions per task (official: 200)")
    ap.add_argument("--open-qa", type=int, default=2000, help="items per open-ended QA task")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--movies", type=int, default=24)
    args = ap.parse_args()

    from data_gen.config import GenerateConfig
    from data_gen.generate import generate
    from data_gen.report import ReportConfig
    from data_gen.report import build as build_report
    from dreamframe.config import from_dict
    from eval.leaderboard import LeaderboardConfig, build

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mv = [f"mvbench_{t}" for t in MVBENCH_TASKS]
        judge = {"name": "llm-judge", "model": "judge", "comparable_to_published": False}
        for m in range(args.models):
            per_task = {t: {"acc": binary(rng, args.per_task, 0.3 + 0.03 * m)} for t in mv}
            for t in ("msvd_qa", "msrvtt_qa", "tgif_qa", "activitynet_qa"):
                acc = binary(rng, args.open_qa, 0.4 + 0.02 * m)
                per_task[t] = {"accuracy": acc, "score": [3.0 * a + 1 for a in acc]}
            write_results(tmp / "res", f"model-{m}", per_task, judge=judge, groups={"mvbench": mv},
                          base_model="model-0" if m else None)
        n = args.models * (20 * args.per_task + 4 * args.open_qa)
        t0 = time.perf_counter()
        s = build(LeaderboardConfig(results=[str(tmp / "res")], out=str(tmp / "lb"), bootstrap=args.bootstrap))
        dt = time.perf_counter() - t0
        size = (tmp / "lb" / "index.html").stat().st_size
        print(f"leaderboard: {args.models} models, {n:,} per-sample values, {s['numbers']} numbers, "
              f"bootstrap {args.bootstrap}: {dt:.2f} s; index.html {size / 1024:.0f} KiB")

        cfg = from_dict(GenerateConfig, {"out": str(tmp / "ds"), "num_movies": args.movies, "workers": 2})
        t0 = time.perf_counter()
        generate(cfg, progress=False)
        gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        r = build_report(ReportConfig(dataset=str(tmp / "ds"), out=str(tmp / "report")), progress=False)
        dt = time.perf_counter() - t0
        size = (tmp / "report" / "index.html").stat().st_size
        print(f"dataset report: {r['movies']} movies, {r['qa']} QA, {r['thumbnails']} thumbnails: {dt:.2f} s "
              f"(generation took {gen:.1f} s); index.html {size / 1024:.0f} KiB")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
