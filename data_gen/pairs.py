"""Minimal pairs: twin questions whose clips differ only where the answer does (TimeBlind, MVP).

A temporal question's twin hands the very same frames in the opposite order and flips before/after, so
a model that ignores order scores at most one of the two. An action question's twin shows the same
clip with the asked action's frames redrawn in another action - same cast, colours, place, expression
and camera - and that action as the answer; the redrawn frames are extra keyframes of the movie
(`Movie.twin_frames`), drawn once per distinct (frame, action). Twins share a `pair_id`, sit in the same
movie (so the same split) and keep the question and options.
"""

from __future__ import annotations

import numpy as np

from data_gen.story.procedural import OBJECTS, frame_description
from dreamframe.schema import Movie, QAPair
from dreamframe.vocab import VERB_ING

ING_VERB = {ing: verb for verb, ing in VERB_ING.items()}
FLIP = {"before": "after", "after": "before"}


def temporal_twin(qa: QAPair) -> QAPair:
    """The same frames in the opposite order, the answer flipped (before <-> after, or the other of the two
    places a which-first question offers); evidence names the same two events."""
    order = "forward" if qa.frame_order == "reversed" else "reversed"
    other = FLIP.get(qa.answer) or next(o for o in qa.options if o != qa.answer)
    return qa.model_copy(update={"answer": other, "frame_order": order})


def action_twin(movie: Movie, qa: QAPair, rng: np.random.Generator, made: dict[tuple[int, str], int]) -> QAPair:
    """The clip with every frame of the asked action redrawn in one of the wrong options' actions (added to
    `movie.twin_frames` unless `made` already holds that (frame, action)), and that action as the answer."""
    wrong = [o for o in qa.options if o != qa.answer]
    new_ing = wrong[int(rng.integers(len(wrong)))]
    old_verb, new_verb = ING_VERB[qa.answer], ING_VERB[new_ing]
    frames = movie.frames
    keyframes, evidence = [], []
    for i in qa.frame_indices:
        if frames[i].verb != old_verb:
            keyframes.append(i)
            continue
        if (i, new_verb) not in made:
            made[(i, new_verb)] = _redraw(movie, i, new_verb, rng)
        keyframes.append(made[(i, new_verb)])
        evidence.append(made[(i, new_verb)])
    return qa.model_copy(update={"answer": new_ing, "frames": keyframes, "evidence": evidence})


def _redraw(movie: Movie, index: int, verb: str, rng: np.random.Generator) -> int:
    """Append story frame `index` with `verb` (and a held object for `hold`) as a twin keyframe; its index."""
    frame = movie.frames[index]
    target = str(OBJECTS[int(rng.integers(len(OBJECTS)))]) if verb == "hold" else None
    chars = [movie.character(n) for n in frame.characters]
    twin = frame.model_copy(update={
        "index": movie.num_keyframes, "verb": verb, "target": target,
        "description": frame_description(movie.style_keyword, frame.place, chars, verb, target, frame.expression)})
    movie.twin_frames.append(twin)
    return twin.index


def with_twins(movie: Movie, questions: list[QAPair], seed: int) -> list[QAPair]:
    """`questions` with each temporal and action question followed by its twin (both given one pair_id)."""
    rng = np.random.default_rng([seed, 104729])  # own stream: the unpaired questions stay as they were
    made: dict[tuple[int, str], int] = {}
    out: list[QAPair] = []
    for qa in questions:
        if qa.qa_type not in ("temporal", "action") or not qa.options:
            out.append(qa)
            continue
        pair_id = f"{qa.id}-pair"
        first = qa.model_copy(update={"pair_id": pair_id})
        twin = temporal_twin(first) if qa.qa_type == "temporal" else action_twin(movie, first, rng, made)
        out += [first, twin.model_copy(update={"id": f"{qa.id}-twin"})]
    return out
