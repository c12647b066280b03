"""Question forms a model can read off the clip in one step: which-first temporal questions
(qa.temporal_form: which_first - the answer is the place the handed clip shows first, the reversed twin's
the other place) and at-start action questions (qa.action_form: at_start - the answer is the pose of the
clip's first frame, the twin redraws it); the per-question check proves both."""

from __future__ import annotations

from data_gen.generate import write_story
from dreamframe.answerable import clip_problems
from dreamframe.frames import handed_frames
from dreamframe.vocab import VERB_ING
from tests.data_gen.dataset_fixtures import paired_config


def _movies(tmp_path, n: int = 10):
    cfg = paired_config(tmp_path / "d")
    cfg.qa.temporal_form, cfg.qa.action_form = "which_first", "at_start"
    return [write_story(cfg, i) for i in range(n)]


def test_the_answer_is_the_place_shown_first_and_the_twin_answers_the_other(tmp_path):
    movies = _movies(tmp_path)
    asked = [(m, q) for m in movies for q in m.qa if q.qa_type == "temporal"]
    assert len(asked) >= 4
    for movie, qa in asked:
        assert len(qa.options) == 2 and qa.answer in qa.options and qa.question.startswith("Where are they first")
        handed = handed_frames(qa.frame_indices, 4, "segment_centre", qa.frame_order)
        places = [movie.keyframes[i].place for i in handed]
        assert places[0] == qa.answer != places[-1]  # one glance at the opening frames answers it
        assert set(places) >= set(qa.options)
    twins = {}
    for _, qa in asked:
        twins.setdefault(qa.pair_id, []).append(qa)
    assert all(len(t) == 2 and t[0].answer != t[1].answer and t[0].options == t[1].options
               and {t[0].frame_order, t[1].frame_order} == {"forward", "reversed"} for t in twins.values())
    assert all(clip_problems(m, 4, "segment_centre") == [] for m in movies)


def test_the_check_names_a_which_first_question_whose_clip_shows_the_other_place_first(tmp_path):
    movie = next(m for m in _movies(tmp_path) if any(q.qa_type == "temporal" for q in m.qa))
    qa = next(q for q in movie.qa if q.qa_type == "temporal")
    qa.frame_order = "reversed" if qa.frame_order == "forward" else "forward"
    assert any(f"QA {qa.id} (temporal): answer {qa.answer!r} but the clip shows the" in p
               for p in clip_problems(movie, 4, "segment_centre"))


def test_an_at_start_action_answer_is_the_first_frames_pose_and_its_twin_redraws_that_frame(tmp_path):
    movies = _movies(tmp_path)
    asked = [(m, q) for m in movies for q in m.qa if q.qa_type == "action"]
    assert len(asked) >= 4
    for movie, qa in asked:
        assert qa.question.endswith("do at the start of this clip?") and len(qa.options) == 4
        first = movie.keyframes[qa.frame_indices[0]]
        assert VERB_ING[first.verb] == qa.answer  # the twin's first keyframe is the redrawn one
        shown = {VERB_ING[movie.keyframes[i].verb] for i in qa.frame_indices}
        assert [o for o in qa.options if o in shown] == [qa.answer]  # no other option is drawn in the clip
    twins = [q for _, q in asked if q.id.endswith("-twin")]
    assert twins and all(q.frame_indices[0] in q.evidence for q in twins)
    assert all(clip_problems(m, 4, "segment_centre") == [] for m in movies)
