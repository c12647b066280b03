"""Where one `eval.run` stages lm-eval's files, and how it publishes them into `<out>/<model>/`.

Several runs of one model write into one `--out` at once: an eval array (docs/slurm.md: each array task
scores a share of the benchmarks) and the pipeline's parallel eval stages. They must never share a
staging folder (one emptied the other's, losing its results) nor a results name (lm-eval names files by
the time alone). So each run stages in its own folder, `<out>/.staging/<host>-<pid>-<token>/`, and
publishes its files under lm-eval's timestamp plus that run id, one rename each, the results file last:

    <out>/<model>/samples_<task>_<timestamp>_<run id>.jsonl
    <out>/<model>/results_<timestamp>_<run id>.json      (the path the run prints and returns)

The stamp still sorts by time (the leaderboard's "newest wins") and pairs a results file with its
per-sample files. A killed run's staging folder is removed by a later run: at once when its process
(on this machine) is gone, after STALE_AFTER_S when it came from another machine or an older layout.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

from dreamframe.atomic import publish, remove_path
from dreamframe.claims import host_name, pid_alive

STAGING_DIRNAME = ".staging"
STALE_AFTER_S = 7 * 24 * 3600.0
"""A staging folder this old from another machine (whose processes we cannot see) belongs to a dead run:
a staging folder lasts from lm-eval's save to the publish (seconds); a week leaves room for clock skew."""
_RUN_ID = re.compile(r"(?P<host>[A-Za-z0-9._]+)-(?P<pid>\d+)-(?P<token>[0-9a-f]{8})")


def new_run_id() -> str:
    """`<host>-<pid>-<8 hex>`: unique among live runs (host, pid) and over time (the random token)."""
    return f"{host_name()}-{os.getpid()}-{secrets.token_hex(4)}"


def staging_folder(out: Path, run_id: str) -> Path:
    """This run's own staging folder (not created), after removing those left by runs that are gone."""
    sweep(out / STAGING_DIRNAME)
    return out / STAGING_DIRNAME / run_id


def _gone(folder: Path, now: float) -> bool:
    """Was `folder` left by a run that is no longer running (its process on this machine is gone, or it
    is older than any staging can be)?"""
    match = _RUN_ID.fullmatch(folder.name)
    if match and match["host"] == host_name() and not pid_alive(int(match["pid"])):
        return True
    try:
        return now - folder.stat().st_mtime > STALE_AFTER_S
    except FileNotFoundError:  # removed meanwhile by another run
        return False


def sweep(root: Path) -> list[Path]:
    """Remove the staging folders of runs that are gone; returns them."""
    if not root.is_dir():
        return []
    now = time.time()
    gone = [p for p in root.iterdir() if _gone(p, now)]
    for path in gone:
        remove_path(path)
    return gone


def publish_results(staged: Path, model_dir: Path, run_id: str) -> Path:
    """Move what lm-eval wrote into `staged` to `model_dir`, each name's stamp extended by `run_id`, one
    rename per file, the results file last (a reader sees it only with its per-sample files in place).
    Returns the published results file. Refuses to replace an existing file (a name is never reused)."""
    results = sorted(staged.glob("results_*.json")) if staged.is_dir() else []
    if len(results) != 1:
        raise FileNotFoundError(f"{staged}: expected the one results_*.json lm-eval writes, found "
                                f"{[p.name for p in results]} (see lm-eval's warning above)")
    stamp = results[0].stem[len("results_"):]
    model_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(staged.iterdir(), key=lambda p: p == results[0]):
        base, dot, ext = path.name.rpartition(".")
        if not base.endswith(stamp):
            raise ValueError(f"{path}: not a file of the lm-eval run stamped {stamp}")
        target = model_dir / f"{base}_{run_id}{dot}{ext}"
        if target.exists():
            raise FileExistsError(f"{target}: already there; not replaced")
        publish(path, target)
    return model_dir / f"results_{stamp}_{run_id}.json"
