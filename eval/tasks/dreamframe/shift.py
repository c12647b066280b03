"""The shifted held-out set: the test split of a second DreamFrame dataset folder, drawn differently from
the training data (configs/data_gen/demo_shift.yaml), as its own benchmark so one `eval.run` scores a model
on both sets (`--tasks dreamframe_heldout_closed,...,dreamframe_shift_closed,dreamframe_shift_free
--data_dirs '{"dreamframe_heldout": DATA, "dreamframe_shift": SHIFTED}'`) and the leaderboard ranks it on a
board of its own. Rows, prompts and scoring are the held-out set's (eval/tasks/dreamframe/__init__.py)."""

from __future__ import annotations

from pathlib import Path
from eval.tasks import dreamframe as heldout
from eval.tasks.common import BenchmarkDataError

NAME = "dreamframe_shift"
DATA_DIR = "dreamframe_shift"
DEFAULT_FRAMES = heldout.DEFAULT_FRAMES
GROUP = heldout.GROUP
TASKS: dict[str, str] = {
    "dreamframe_shift_closed": "shifted held-out questions with options (option log-likelihood: acc, acc_norm)",
    "dreamframe_shift_free": "shifted held-out questions with options (free generation matched to an option)",
}
template = heldout.template
default_frames = heldout.default_frames
prepare = heldout.prepare
subset = heldout.subset


def find_root(data_root: Path) -> Path:
    """`data_root` itself when it is a dataset folder, else data_root/dreamframe_shift."""
    for cand in (data_root, data_root / DATA_DIR):
        if (cand / "manifest.json").is_file():
            return cand
    raise BenchmarkDataError(f"{data_root}: not a DreamFrame dataset folder (no manifest.json in it or in {DATA_DIR}/)")
