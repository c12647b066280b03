"""The leaderboard package: `python -m eval.leaderboard` (eval/leaderboard/cli.py says how); read.py reads
results through `eval.results.RunRecord`, rank.py ranks, render.py writes the pages, types.py is their vocabulary."""

from eval.leaderboard.cli import build, main
from eval.leaderboard.published import benchmark_of, load_published
from eval.leaderboard.rank import rank, ranked_groups
from eval.leaderboard.types import Delta, Entry, LeaderboardConfig, LeaderboardError, RankingError

__all__ = ["LeaderboardConfig", "LeaderboardError", "RankingError", "Entry", "Delta", "benchmark_of", "load_published",
           "rank", "ranked_groups", "build", "main"]
