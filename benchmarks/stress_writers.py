"""Many writers into one dataset folder at once: random mixes, random start offsets, then a strict check.

    python benchmarks/stress_writers.py --trials 20            # the issue's bar: 20 random trials pass
    python benchmarks/stress_writers.py --trials 2 --movies 4   # the short version the test suite runs

Each trial starts >= 3 `python -m data_gen.generate` processes on one fresh folder, each after a random
delay: plain duplicates (the whole range, 1 or 2 workers), a full set of shards, and the job array's
prepare step (`--num-movies 0`). When all have exited it checks that every process exited 0; that the
movies were rendered exactly once in total (the processes' "this run rendered K" lines sum to N); that
`check_dataset` finds nothing wrong (every movie the manifest lists has all its frame files, its QA
rows and, when enabled, its video; counts equal the files on disk; no movie lost or duplicated); and
that no failure, claim or temp folder is left. Local processes only (no network); every trial and the
whole run are bounded in time, and the script stops by itself.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dreamframe.dataset import DatasetFolder
from dreamframe.dataset_check import check_dataset

REPO = Path(__file__).resolve().parents[1]
RENDERED = re.compile(r"this run rendered (\d+)")


def writer_mix(rng: random.Random) -> list[tuple[str, list[str]]]:
    """>= 3 writers whose ranges together cover every movie: (label, extra options)."""
    writers: list[tuple[str, list[str]]] = []
    if rng.random() < 0.7:
        for _ in range(rng.randint(1, 2)):
            w = rng.choice([1, 2])
            writers.append((f"plain w{w}", ["--workers", str(w)]))
    if not writers or rng.random() < 0.6:
        k = rng.choice([2, 3])
        writers += [(f"shard {i}/{k}", ["--shard-index", str(i), "--num-shards", str(k)]) for i in range(k)]
    for _ in range(rng.randint(1, 2)):
        writers.append(("prepare", ["--num-movies", "0", "--workers", "1"]))
    return writers


def run_trial(trial: int, rng: random.Random, root: Path, movies: int, timeout: float) -> tuple[bool, str]:
    out = root / f"trial-{trial:02d}"
    n = rng.randint(max(1, movies - 2), movies)
    video = rng.random() < 0.5
    base = [sys.executable, "-m", "data_gen.generate", "--config", str(REPO / "configs/data_gen/tiny.yaml"),
            "--out", str(out), "--num-movies", str(n), "--render.size", "32",
            "--render.video_fps", "2" if video else "0"]
    mix = writer_mix(rng)
    offsets = [rng.uniform(0.0, 1.5) for _ in mix]
    started = time.monotonic()
    procs: list[subprocess.Popen | None] = [None] * len(mix)
    for i in sorted(range(len(mix)), key=lambda i: offsets[i]):
        time.sleep(max(0.0, started + offsets[i] - time.monotonic()))
        procs[i] = subprocess.Popen(base + mix[i][1], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
    problems, rendered = [], []
    for (label, _), proc in zip(mix, procs):
        assert proc is not None
        try:
            stdout, stderr = proc.communicate(timeout=max(1.0, started + timeout - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            problems.append(f"{label}: still running after {timeout:.0f} s, killed")
        if proc.returncode != 0:
            problems.append(f"{label}: exit {proc.returncode}: {stderr.strip().splitlines()[-1:] or stdout}")
        match = RENDERED.search(stdout)
        rendered.append(int(match[1]) if match else 0)
    if sum(rendered) != n:
        problems.append(f"movies rendered {sum(rendered)} times in total ({rendered}), expected {n}: "
                        + ("some twice" if sum(rendered) > n else "some never"))
    problems += check_dataset(out, [f"m{i:05d}" for i in range(n)])
    if (out / "manifest.json").exists():
        manifest = DatasetFolder(out).manifest()
        for key in ("failures", "in_progress"):
            if manifest.get(key):
                problems.append(f"manifest {key}: {json.dumps(manifest[key])[:200]}")
    leftovers = [p.name for p in (out / "frames").glob(".*")] + [p.name for p in (out / ".writers/claims").glob("*")]
    if leftovers:
        problems.append(f"left behind: {leftovers[:4]}")
    desc = ", ".join(f"{label} +{off:.2f}s" for (label, _), off in zip(mix, offsets))
    status = "ok" if not problems else "FAILED\n    " + "\n    ".join(problems)
    line = (f"trial {trial:2d}: {n} movies, video {'on' if video else 'off'}, writers [{desc}]: "
            f"rendered {'+'.join(map(str, rendered))} = {sum(rendered)} in {time.monotonic() - started:.1f} s: {status}")
    if not problems:
        shutil.rmtree(out, ignore_errors=True)
    return not problems, line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20, help="random trials to run (default 20)")
    parser.add_argument("--movies", type=int, default=7, help="most movies per trial (default 7)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random mixes and offsets")
    parser.add_argument("--trial-timeout", type=float, default=240.0, help="seconds one trial may take")
    parser.add_argument("--time-limit", type=float, default=1800.0, help="seconds the whole run may take")
    parser.add_argument("--keep", default="", help="folder to keep failed trials in (default: a temp folder)")
    args = parser.parse_args(argv)
    if args.trials < 1 or args.movies < 1:
        parser.error("--trials and --movies must be >= 1")
    rng = random.Random(args.seed)
    root = Path(args.keep or tempfile.mkdtemp(prefix="stress_writers-"))
    root.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + args.time_limit
    passed = ran = 0
    for trial in range(args.trials):
        if time.monotonic() + 5 > deadline:
            print(f"stopping: --time-limit {args.time_limit:.0f} s reached after {ran} trial(s)")
            break
        ok, line = run_trial(trial, rng, root, args.movies, min(args.trial_timeout, deadline - time.monotonic()))
        print(line, flush=True)
        passed, ran = passed + ok, ran + 1
    print(f"{passed}/{ran} trials passed" + ("" if passed == ran else f"; failed trials kept in {root}"))
    if passed == ran:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if passed == ran == args.trials else 1


if __name__ == "__main__":
    sys.exit(main())
