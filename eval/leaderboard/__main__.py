"""`python -m eval.leaderboard`: see eval/leaderboard/__init__.py."""

import sys

from eval.leaderboard.cli import main

sys.exit(main())
