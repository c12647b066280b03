"""The per-question clip check: every temporal and action question of a generated dataset is answerable from
the frames a model is handed (the recorded sampling rule, qa.clip_frames), and a damaged or unanswerable
question is named by its QA id (dreamframe.answerable, `python -m data_gen.check`)."""

from __future__ import annotations

import shutil

from data_gen.check import main as check_main
from data_gen.generate import write_story
from data_gen.qa import make_qa
from dreamframe.answerable import clip_problems
from dreamframe.dataset import DatasetFolder
from dreamframe.dataset_check import check_dataset
from dreamframe.frames import handed_frames
from tests.data_gen.dataset_fixtures import paired_config


def test_generated_questions_are_answerable_from_the_handed_clip(paired_dataset, capsys):
    assert check_dataset(paired_dataset) == []
    assert check_main(["--dataset", str(paired_dataset)]) == 0
    movies = DatasetFolder(paired_dataset).movies()
    asked = [qa for m in movies for qa in m.qa if qa.qa_type in ("temporal", "action")]
    assert asked and all(qa.evidence for qa in asked)
    for qa in asked:  # the 4 frames handed hold every evidence frame
        assert set(qa.evidence) <= set(handed_frames(qa.frame_indices, 4, "segment_centre", qa.frame_order))


def test_without_clip_frames_temporal_questions_name_events_the_clip_misses(tmp_path):
    """The check can fail: generation that ignores the handed clip asks about frames 4 of 6 do not show."""
    cfg = paired_config(tmp_path / "d")
    cfg.qa.clip_frames = None
    misses = []
    for index in range(12):
        movie = write_story(cfg, index)
        misses += clip_problems(movie, 4, "segment_centre")
    assert any("miss keyframe" in p and "(temporal)" in p for p in misses)


def test_a_damaged_question_is_named_by_the_check(paired_dataset, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(paired_dataset, data)
    folder = DatasetFolder(data)
    movie = next(m for m in folder.movies() if any(q.qa_type == "temporal" for q in m.qa))
    flipped = next(q for q in movie.qa if q.qa_type == "temporal")
    flipped.frame_order = "reversed" if flipped.frame_order == "forward" else "forward"  # answer now wrong
    acted = next((q for q in movie.qa if q.qa_type == "action"), None)
    if acted is not None:
        acted.answer = next(o for o in acted.options if o != acted.answer)  # not what its frames draw
    folder.movie_path(movie.id).write_text(movie.to_json())
    problems = check_dataset(data)
    assert any(f"QA {flipped.id} (temporal): answer" in p for p in problems), problems
    if acted is not None:
        assert any(f"QA {acted.id} (action): answer" in p for p in problems), problems
    assert check_main(["--dataset", str(data)]) == 1


def test_two_frames_cannot_show_both_events_of_every_question(paired_dataset):
    problems = check_dataset(paired_dataset, num_frames=1)
    assert any("(temporal): the 1 frames handed" in p and "miss keyframe" in p for p in problems)


def test_make_qa_keeps_its_old_questions_when_pairs_are_off(tmp_path):
    """Twins draw from their own random stream: turning minimal_pairs on only adds rows."""
    cfg = paired_config(tmp_path / "d")
    movie = write_story(cfg, 3)
    paired = make_qa(movie.model_copy(deep=True), cfg.qa, seed=3)
    cfg.qa.minimal_pairs = False
    plain = make_qa(movie.model_copy(deep=True), cfg.qa, seed=3)
    assert [q.id for q in plain] == [q.id for q in paired if not q.id.endswith("-twin")]
    assert len(paired) > len(plain)
