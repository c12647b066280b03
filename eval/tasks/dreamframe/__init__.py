"""The held-out (test) split of a DreamFrame dataset folder, as two lm-eval tasks and their group.

- dreamframe_heldout_closed: questions with options, scored by option log-likelihood (acc, acc_norm);
- dreamframe_heldout_free: the same questions answered by free generation, matched to an option (free_acc);
- dreamframe_heldout_open: free-form answers; scored by the run's judge (--judge; `auto` = the
  lexical judge), or with --judge exact_match by normalised exact match (`exact_match_fallback`).
Frames are the QA row's own (`frame_paths`, handed in its `frame_order`: a reversed minimal-pair twin
gets the same frames reversed; `dreamframe.clip.qa_clip`), sampled with the dataset's own rule (`DatasetFolder.frame_rule`) unless --frame-sampling says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dreamframe.clip import ClipSpec, qa_clip
from dreamframe.dataset import DatasetError, DatasetFolder
from dreamframe.scoring import stratified_subset
from eval.tasks.common import LETTERS, BenchmarkDataError

NAME = "dreamframe_heldout"
DATA_DIR = "dreamframe"
DEFAULT_FRAMES = ClipSpec(8, "segment_centre")
SPLIT = "test"
GROUP = {"aggregate_metric_list": [{"metric": "acc", "aggregation": "mean", "weight_by_size": True}],
         "metadata": {"version": 1.0}}
TASKS: dict[str, str] = {
    "dreamframe_heldout_closed": "held-out questions with options (option log-likelihood: acc, acc_norm)",
    "dreamframe_heldout_free": "held-out questions with options (free generation matched to an option)",
    "dreamframe_heldout_open": "held-out open questions (judge)",
}


def template(task: str) -> str:
    return f"_{task.rsplit('_', 1)[1]}.yaml"


def find_root(data_root: Path) -> Path:
    """`data_root` itself when it is a dataset folder (has manifest.json), else data_root/dreamframe."""
    for cand in (data_root, data_root / DATA_DIR):
        if (cand / "manifest.json").is_file():
            return cand
    raise BenchmarkDataError(f"{data_root}: not a DreamFrame dataset folder (no manifest.json in it or in {DATA_DIR}/)")


def default_frames(root: Path) -> ClipSpec:
    """8 frames, picked with the rule the dataset was made with (`DatasetFolder.frame_rule`)."""
    try:
        rule = DatasetFolder(root).frame_rule()
    except DatasetError:
        rule = None
    return ClipSpec(DEFAULT_FRAMES.num_frames, rule or DEFAULT_FRAMES.rule)


def prepare(root: Path, task: str, num_frames: int, rule: str) -> list[dict[str, Any]]:
    folder = DatasetFolder(root)
    try:
        folder.manifest()
        table = folder.load_qa(SPLIT)
    except DatasetError as err:
        raise BenchmarkDataError(str(err)) from None
    want_closed = not task.endswith("_open")
    rows = []
    for qa in table:
        options = list(qa["options"] or [])
        if bool(options) != want_closed:
            continue
        ref = qa_clip(folder.root, qa, ClipSpec(num_frames, rule)).as_dict()  # the row's frames, in its frame_order
        rows.append({"id": qa["id"], "movie_id": qa["movie_id"], "pair_id": qa.get("pair_id"),
                     "question": qa["question"], "answer": qa["answer"],
                     "options": options, "answer_letter": LETTERS[options.index(qa["answer"])] if options else "",
                     "qa_type": qa["qa_type"], "level": qa["level"], "video": ref})
    return rows


def subset(rows: list[dict[str, Any]], per_type: int) -> list[dict[str, Any]]:
    """`eval.run --max_per_type N`: at most N rows of each qa_type, the twins of a minimal pair (rows sharing
    a `pair_id`) kept together, the same rows for every model (`dreamframe.scoring.stratified_subset`)."""
    return stratified_subset(rows, per_type)
