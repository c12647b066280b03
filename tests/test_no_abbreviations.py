"""No entry point takes a prefix of an option for the option (issue 12): `--max-step` must not run as
`--max_steps`, `--task` not as `--tasks` - one typo would start a long default job."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

ROOMS = ("dreamframe", "data_gen", "models", "training", "eval", "launch")
# entry point -> argv whose first option is abbreviated (the full option exists: see --help)
ABBREVIATED = {
    "data_gen.check": ["--datas", "x"],
    "data_gen.export": ["--form", "llava"],
    "data_gen.generate": ["--num-movie", "1"],
    "data_gen.metrics": ["--hel", "--alexnet", "a", "--lpips", "b", "--out", "c"],  # all its options are required
    "data_gen.report": ["--max-movie", "1"],
    "launch.pipeline": ["--stage", "data"],
    "dreamframe.pipeline": ["--stage", "data"],  # the README's alias of launch.pipeline
    "eval.leaderboard": ["--publish", "none"],
    "eval.lm_eval_cli": ["--task", "dreamframe_heldout_closed", "--model", "dreamframe"],
    "eval.run": ["--task", "dreamframe_heldout"],
    "eval.protocol": ["--benchmark", "mvbench"],
    "eval.summary": ["--mod", '{"tuned": "t"}'],
    "eval.tasks.tempcompass.agreement": ["--video", "x"],
    "eval.tasks.tempcompass.published": ["--rep", "x"],
    "eval.tasks.videomme.report": ["--subtitle", "true"],
    "models.export": ["--overwr", "true"],
    "training.plan": ["--max-step", "3"],
    "launch.submit": ["--partit", "gpu"],
    "training.submit": ["--partit", "gpu"],  # alias of launch.submit
    "training.train": ["--max-step", "3"],
}


def entry_points() -> set[str]:
    """Every `python -m` module of the project: a file with a `__main__` guard in one of the rooms, or a
    package with a `__main__.py` (`python -m eval.leaderboard`)."""
    found = set()
    for room in ROOMS:
        for path in (REPO / room).rglob("*.py"):
            if path.name == "__main__.py":
                found.add(".".join(path.parent.relative_to(REPO).parts))
            elif re.search(r'^if __name__ == "__main__":', path.read_text(encoding="utf-8"), re.M):
                found.add(".".join(path.relative_to(REPO).with_suffix("").parts))
    return found


def test_every_entry_point_is_listed():
    assert entry_points() == set(ABBREVIATED), "add the new entry point to ABBREVIATED"


def test_abbreviated_options_are_refused_everywhere(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = {}
    for module, argv in ABBREVIATED.items():
        cwd = tmp_path / module  # were the option taken, the default job would write here, not in the repo
        cwd.mkdir()
        procs[module] = subprocess.Popen([sys.executable, "-m", module, *argv], cwd=cwd, env=env, text=True,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    failures = []
    for module, proc in procs.items():
        try:
            _, err = proc.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            failures.append(f"{module}: still running after 180 s - it took {ABBREVIATED[module][0]!r}")
            continue
        typed = ABBREVIATED[module][0]
        abbreviation = "--" + typed[2:].replace("-", "_")  # entry points accept --a-b for --a_b
        if proc.returncode != 2 or "unrecognized arguments" not in err or abbreviation not in err:
            failures.append(f"{module}: rc {proc.returncode}, stderr {err[-300:]!r}")
    assert not failures, "\n".join(failures)
    assert not list(Path(tmp_path).rglob("manifest.json"))
