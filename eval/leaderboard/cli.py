"""Leaderboard: fine-tuned models next to their bases and the published baselines.

    python -m eval.leaderboard runs/eval/ --out runs/leaderboard
    python -m eval.leaderboard runs/eval/a runs/eval/b --out lb --bootstrap 2000 --published none

Reads lm-eval result folders (`<out>/<model>/results_<ts>.json` with a top-level "dreamframe" block,
plus `samples_<task>_<ts>.jsonl`; results written by `lm_eval` itself are taken too, their judge and
frames shown as not recorded), and writes leaderboard.md, leaderboard.csv and a self-contained
index.html. Every number carries the judge and the frame setting it was measured with; numbers
measured under different judges, or on a partial download, are never ranked with the others;
accuracies (percent, as eval.run writes them) get bootstrap 95% intervals from the per-sample logs.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from dreamframe.config import parse_config
from eval.leaderboard.controls import add_controls
from eval.leaderboard.published import load_published
from eval.leaderboard.rank import add_confidence_intervals, deltas, ranked_groups
from eval.leaderboard.read import find_results, merge_latest
from eval.leaderboard.render import write_outputs
from eval.leaderboard.types import LeaderboardConfig, LeaderboardError, RankingError

def _positional_to_option(argv: list[str]) -> list[str]:
    """`RESULTS_DIR...` positional arguments become `--results [...]` (every option takes a value)."""
    rest, positional, i = [], [], 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help", "--print_config", "--print-config"):
            rest.append(arg)
        elif arg.startswith("--"):
            rest.append(arg)
            if "=" not in arg and i + 1 < len(argv):
                rest.append(argv[i + 1])
                i += 1
        else:
            positional.append(arg)
        i += 1
    return rest + (["--results", json.dumps(positional)] if positional else [])  # after --config, so it wins


def build(cfg: LeaderboardConfig) -> dict[str, Any]:
    """Load, aggregate and write the three outputs; returns a summary."""
    if not cfg.out:
        raise LeaderboardError("--out is required: the folder to write the leaderboard to")
    if not cfg.results:
        raise LeaderboardError("give at least one RESULTS_DIR (a folder of lm-eval results)")
    published, benchmarks = load_published(cfg.published)
    loaded = merge_latest(find_results(cfg.results), benchmarks)
    ours = [e for e in loaded if math.isfinite(e.value)]
    unavailable = [e for e in loaded if not math.isfinite(e.value)]
    for e in unavailable:  # never dropped without a word: warned here, listed as n/a in every output
        print(f"warning: {e.source}: {e.model} {e.task} {e.raw_metric} is {e.value} (nothing could be scored); "
              "shown as n/a and not ranked", file=sys.stderr)
    add_confidence_intervals(ours, cfg.bootstrap, cfg.confidence, cfg.seed)
    if cfg.controls:
        ours += add_controls(cfg.controls, ours)
    entries = ours + published
    groups = ranked_groups(entries, benchmarks)
    ds = deltas(entries, cfg.bootstrap, cfg.confidence, cfg.seed)
    paths = write_outputs(cfg, entries, groups, ds, benchmarks, unavailable)
    return {"models": len({e.model for e in loaded}), "numbers": len(ours), "published": len(published),
            "groups": len(groups), "deltas": len(ds), "unavailable": len(unavailable), "paths": paths}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    cfg = parse_config(LeaderboardConfig, _positional_to_option(argv), prog="python -m eval.leaderboard",
                       description=__doc__)
    try:
        summary = build(cfg)
    except (LeaderboardError, RankingError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {', '.join(summary['paths'])}: {summary['models']} models, {summary['numbers']} numbers, "
          f"{summary['published']} published, {summary['groups']} ranked groups, {summary['deltas']} deltas, "
          f"{summary['unavailable']} n/a")
    return 0

