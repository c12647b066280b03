"""Per question, proof that the clip a model is handed can answer it - from the recorded sampling rule.

Generation records each temporal and action question's `evidence` (the keyframes its answer rests on);
this module replays the one sampler (`dreamframe.frames.handed_frames`: the dataset's rule, the model's
frame count, the row's frame order) and checks that the handed frames hold every evidence frame, that a
temporal answer agrees with the order the two events are handed in, that an action answer is the action
drawn in its evidence frames, and that the twins of a minimal pair differ in their answer only.
"""

from __future__ import annotations

from collections import defaultdict

from dreamframe.frames import SamplingRule, handed_frames
from dreamframe.schema import Movie, QAPair
from dreamframe.vocab import VERB_ING


def question_problems(movie: Movie, qa: QAPair, num_frames: int | None, rule: SamplingRule | str) -> list[str]:
    """Why `qa`'s clip cannot answer it ([] when it can, or when it records no evidence)."""
    if not qa.evidence:
        return []
    keyframes = qa.frame_indices
    handed = handed_frames(keyframes, num_frames or len(keyframes), rule, qa.frame_order)
    where = f"{movie.id}: QA {qa.id} ({qa.qa_type})"
    if missing := [i for i in qa.evidence if i not in handed]:
        return [f"{where}: the {len(handed)} frames handed ({rule}, {qa.frame_order}: keyframes {handed}) miss "
                f"keyframe(s) {missing} its answer needs"]
    if qa.qa_type == "temporal" and len(qa.evidence) == 2:
        earlier = handed.index(qa.evidence[0]) < handed.index(qa.evidence[1])
        if qa.answer in ("before", "after"):
            if qa.answer != (shown := "before" if earlier else "after"):
                return [f"{where}: answer {qa.answer!r} but the clip hands the first named event {shown} the second"]
        elif qa.answer != (first := movie.keyframes[qa.evidence[0 if earlier else 1]].place):
            return [f"{where}: answer {qa.answer!r} but the clip shows the {first} first"]
    if qa.qa_type == "action":
        drawn = {VERB_ING[movie.keyframes[i].verb] for i in qa.evidence}
        if drawn != {qa.answer}:
            return [f"{where}: answer {qa.answer!r} but its evidence frames draw {sorted(drawn)}"]
    return []


def pair_problems(movie: Movie) -> list[str]:
    """Each pair_id names two questions of this movie with the same question and options, answers differing."""
    pairs: dict[str, list[QAPair]] = defaultdict(list)
    for qa in movie.qa:
        if qa.pair_id:
            pairs[qa.pair_id].append(qa)
    problems = []
    for pair_id, twins in pairs.items():
        if len(twins) != 2:
            problems.append(f"{movie.id}: pair {pair_id} has {len(twins)} question(s), not 2")
        elif twins[0].answer == twins[1].answer or twins[0].question != twins[1].question \
                or twins[0].options != twins[1].options:
            problems.append(f"{movie.id}: pair {pair_id}: twins {twins[0].id}, {twins[1].id} must share question and "
                            "options and differ in answer")
    return problems


def clip_problems(movie: Movie, num_frames: int | None, rule: SamplingRule | str) -> list[str]:
    """Every question of `movie` whose handed clip cannot answer it, and every broken minimal pair."""
    return [p for qa in movie.qa for p in question_problems(movie, qa, num_frames, rule)] + pair_problems(movie)
