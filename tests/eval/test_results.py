"""One results type (eval/results.py): what `eval.run` writes is what the leaderboard reads, field by field,
and no task's provenance is stored twice in a results file. Real runs of the tiny model through lm-eval."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

import eval.run_record
from eval.leaderboard.published import load_published
from eval.leaderboard.read import load_results_file, read_record
from eval.results import NOT_IN_BLOCK, GroupRecord, ResultsError, RunRecord, TaskRecord
from eval.run import main

MODEL = "tiny-llava_onevision"


@pytest.fixture(scope="module")
def written(tmp_path_factory, heldout_root, mvbench_root) -> tuple[Path, RunRecord]:
    """One eval.run over a held-out group (closed, free, judged open questions) and one MVBench task; the
    results file and the record eval.run built before writing it."""
    built: list[RunRecord] = []
    original = eval.run_record.build_record
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(eval.run_record, "build_record", lambda *a, **k: built.append(original(*a, **k)) or built[-1])
    out = tmp_path_factory.mktemp("ev")
    try:
        assert main(["--model", MODEL, "--tasks", "dreamframe_heldout,mvbench_action_sequence",
                     "--data-dirs", json.dumps({"dreamframe_heldout": str(heldout_root), "mvbench": str(mvbench_root)}),
                     "--out", str(out), "--limit", "3", "--batch-size", "4", "--max-new-tokens", "3", "--threads", "1",
                     "--progress", "false", "--bootstrap-iters", "0"]) == 0
    finally:
        monkeypatch.undo()
    (path,) = (out / MODEL).glob("results_*.json")
    return path, built[0]


def _own_fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.metadata != NOT_IN_BLOCK]


def test_the_leaderboard_reads_back_what_eval_run_wrote(written):
    """Fails on the old code: eval.run built a dict in three steps and the leaderboard reassembled it (no
    shared type, no RunRecord to compare)."""
    path, record = written
    read = read_record(path)  # the leaderboard's one reader
    for name in _own_fields(RunRecord):
        if name not in ("tasks", "groups"):
            assert getattr(read, name) == getattr(record, name), name
    assert read.tasks.keys() == record.tasks.keys() >= {"dreamframe_heldout_open", "mvbench_action_sequence"}
    assert read.groups.keys() == record.groups.keys() == {"dreamframe_heldout"}
    for kind, cls in (("tasks", TaskRecord), ("groups", GroupRecord)):
        for task, want in getattr(record, kind).items():
            for name in _own_fields(cls):
                assert getattr(getattr(read, kind)[task], name) == getattr(want, name), (task, name)
    data = json.loads(path.read_text())  # lm-eval's part of the file: the numbers, counts and sample logs
    for task, rec in read.tasks.items():
        assert rec.metrics == data["results"][task] and rec.n_samples == data["n-samples"][task]["effective"]
        assert rec.samples and (path.parent / rec.samples).is_file()
    assert read.groups["dreamframe_heldout"].subtasks == data["group_subtasks"]["dreamframe_heldout"]
    open_task = read.tasks["dreamframe_heldout_open"]
    assert open_task.judge.name == "lexical-f1" and open_task.verdicts == "judge_reports/dreamframe_heldout_open.json"
    assert (path.parent / open_task.verdicts).is_file()
    assert read.tasks["mvbench_action_sequence"].clip.rule == "videochat2"
    # every number on the board carries its task record's judge and frames
    _, benchmarks = load_published("builtin")
    for entry in load_results_file(path, benchmarks):
        if entry.task in read.tasks:
            clip = read.tasks[entry.task].clip
            assert entry.frames == f"{clip.rule} x{clip.num_frames}", entry.task
            judge = read.tasks[entry.task].judge
            assert entry.judge == (judge.name if judge.model is None else f"{judge.name} ({judge.model})")


def _task_keyed(node: Any, tasks: set[str], where: str = "") -> list[str]:
    """The paths of every mapping keyed by a task name below `node`."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{where}.{key}" if where else str(key)
            if key in tasks:
                found.append(where)
            found += _task_keyed(value, tasks, path)
    elif isinstance(node, list):
        for value in node:
            found += _task_keyed(value, tasks, where)
    return found


def test_no_task_provenance_is_stored_twice(written):
    """Fails on the old code: judge.per_task, frame_sampling.per_task, per_task, errors, num_docs and
    frame_sampling.frames_to_model each keyed the tasks again in the "dreamframe" block."""
    path, _ = written
    data = json.loads(path.read_text())
    block = data["dreamframe"]
    tasks = set(block["tasks"])
    places = {p for p in _task_keyed(block, tasks)}
    assert places == {"tasks"}, f"task provenance also under {sorted(places - {'tasks'})}"
    assert "per_task" not in json.dumps(block) and not {"judge", "frame_sampling", "partial"} & block.keys()
    for task in tasks:  # the numbers only in lm-eval's part, the provenance only in the record
        assert not {"metrics", "n_samples", "samples"} & block["tasks"][task].keys()


def test_a_results_file_of_the_previous_format_is_refused_with_what_to_do(tmp_path, written):
    """Chosen over reading format 1: run the same eval.run command again (answers come from its cache)."""
    path, _ = written
    data = json.loads(path.read_text())
    data["dreamframe"] = {"model": MODEL, "units": "percent", "judge": {"name": "none"}, "per_task": {}}
    old = tmp_path / path.name
    old.write_text(json.dumps(data))
    with pytest.raises(ResultsError, match=r"format_version is missing: written by an older eval.run.*again"):
        RunRecord.read(old)
