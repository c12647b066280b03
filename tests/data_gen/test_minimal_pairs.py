"""Minimal pairs: twins differ only where they should, answers flip, they share a pair_id and a split,
and every consumer hands a reversed twin its frames reversed (dreamframe.clip.qa_clip)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from data_gen.generate import style_and_frames, write_story
from data_gen.render.procedural import ProceduralRenderer, figure_layout
from dreamframe.clip import Clip, ClipSpec, qa_clip
from dreamframe.dataset import DatasetFolder
from tests.data_gen.dataset_fixtures import paired_config


def _twins(rows: list[dict]) -> list[tuple[dict, dict]]:
    by_pair = defaultdict(list)
    for r in rows:
        if r["pair_id"]:
            by_pair[r["pair_id"]].append(r)
    assert all(len(t) == 2 for t in by_pair.values())
    return [tuple(t) for t in by_pair.values()]


def test_twins_share_pair_id_split_question_and_options_and_flip_the_answer(paired_dataset):
    folder = DatasetFolder(paired_dataset)
    rows = {s: folder.load_qa(s) for s in ("train", "test")}
    kinds = set()
    for split, split_rows in rows.items():
        for a, b in _twins(split_rows):
            kinds.add(a["qa_type"])
            assert a["movie_id"] == b["movie_id"] and a["split"] == b["split"] == split
            assert a["question"] == b["question"] and a["options"] == b["options"] and a["answer"] != b["answer"]
            assert a["qa_type"] == b["qa_type"] in ("temporal", "action")
            if a["qa_type"] == "temporal":
                assert a["frame_paths"] == b["frame_paths"]
                assert {a["frame_order"], b["frame_order"]} == {"forward", "reversed"}
            else:
                assert a["frame_order"] == b["frame_order"] == "forward"
                assert a["frame_paths"] != b["frame_paths"] and len(a["frame_paths"]) == len(b["frame_paths"])
    assert kinds == {"temporal", "action"}
    unpaired = [r for split_rows in rows.values() for r in split_rows if not r["pair_id"]]
    assert unpaired and all(r["qa_type"] not in ("temporal", "action") for r in unpaired if r["options"])


def test_a_reversed_twin_gets_the_same_frames_in_reverse_pixel_for_pixel(paired_dataset):
    folder = DatasetFolder(paired_dataset)
    temporal = [t for t in _twins(folder.load_qa("train")) if t[0]["qa_type"] == "temporal"]
    assert temporal
    for a, b in temporal:
        clip_a, clip_b = (qa_clip(folder.root, r, ClipSpec(4)) for r in (a, b))
        assert clip_a.frame_paths() == clip_b.frame_paths()[::-1]
        pixels_a = [np.asarray(f) for f in clip_a.load()]
        pixels_b = [np.asarray(f) for f in clip_b.load()]
        assert all(np.array_equal(x, y) for x, y in zip(pixels_a, pixels_b[::-1]))
        assert not all(np.array_equal(x, y) for x, y in zip(pixels_a, pixels_b))  # the order does differ


def _redrawn(movie) -> set[tuple[int, int]]:
    """(story frame, its twin keyframe) for every action twin of `movie`, read off the twins' frame lists."""
    by_pair = defaultdict(list)
    for qa in movie.qa:
        if qa.pair_id and qa.qa_type == "action":
            by_pair[qa.pair_id].append(qa.frame_indices)
    return {(i, j) for first, second in by_pair.values() for i, j in zip(first, second) if i != j}


def test_an_action_twin_differs_only_in_the_figures_pose(tmp_path):
    """Rendered (before JPEG), each twin keyframe equals its story frame outside the figures' columns, and
    its cast, place and expression are the story frame's."""
    cfg = paired_config(tmp_path / "d")
    r = cfg.render
    checked = 0
    for index in range(6):
        movie = write_story(cfg, index)
        frames = [np.asarray(f, dtype=np.int16) for f in style_and_frames(cfg, movie)[1]]
        renderer = ProceduralRenderer(r.size, **figure_layout(cfg.seed, movie.id, r))
        for i, j in _redrawn(movie):
            story, twin = movie.keyframes[i], movie.keyframes[j]
            assert twin.verb != story.verb and j >= movie.num_frames
            same = ("place", "characters", "expression")
            assert [getattr(twin, k) for k in same] == [getattr(story, k) for k in same]
            changed = np.abs(frames[j] - frames[i]).sum(axis=2) > 0
            assert changed.any()
            xs = [x for verb in (story.verb, twin.verb) for x, _ in renderer.torso_centres(verb, len(story.characters))]
            reach = 60 * r.size / 336 * renderer.figure_scale  # arms, chair, speech bubble, held object
            columns = np.flatnonzero(changed.any(axis=0))
            assert columns.min() >= min(xs) - reach and columns.max() <= max(xs) + reach, (movie.id, j)
            checked += 1
    assert checked


def test_multi_turn_samples_never_join_two_twins(paired_dataset):
    """`turns: clip` merges the questions of one clip; a twin is another clip (the frames reversed, or one
    redrawn), so the two twins of a pair - one question, flipped answers - never share a sample."""
    from dreamframe.prompts import question_text
    from training.data import folder_items

    rows = list(DatasetFolder(paired_dataset).load_qa("test"))
    merged = folder_items(str(paired_dataset), "test", ClipSpec(4), turns="clip")
    samples = [{(m["content"], n["content"]) for m, n in zip(it.messages[::2], it.messages[1::2])} for it in merged]
    turn = lambda r: (question_text(r["question"], r["options"]), r["answer"])  # noqa: E731
    twins = _twins(rows)
    assert {a["qa_type"] for a, _ in twins} == {"temporal", "action"}
    for a, b in twins:
        assert turn(a) != turn(b)
        assert sum(turn(a) in s for s in samples) == sum(turn(b) in s for s in samples) == 1
        assert not any(turn(a) in s and turn(b) in s for s in samples)


def test_training_and_eval_hand_a_reversed_twin_its_frames_reversed(paired_dataset):
    """Neither room orders frames itself: training items and held-out task rows take the row's clip."""
    from eval.tasks.dreamframe import prepare
    from training.data import folder_items

    folder = DatasetFolder(paired_dataset)
    rows = {r["id"]: r for r in folder.load_qa("test")}
    twins = [t for t in _twins(list(rows.values())) if t[0]["qa_type"] == "temporal"]
    assert twins
    items = {it.id: it for it in folder_items(str(paired_dataset), "test", ClipSpec(4))}
    tasks = {r["id"]: r for r in prepare(paired_dataset, "dreamframe_heldout_closed", 4, "segment_centre")}
    for a, b in twins:
        assert items[a["id"]].frames == items[b["id"]].frames[::-1] != items[b["id"]].frames
        assert tasks[a["id"]]["pair_id"] == tasks[b["id"]]["pair_id"] == a["pair_id"]
        for row in (a, b):
            assert Clip.from_dict(tasks[row["id"]]["video"]).frame_paths() == items[row["id"]].frames
