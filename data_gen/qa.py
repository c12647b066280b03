"""Grounded QA: every answer is computed from the structured movie, so it is correct by construction.

Besides the paper's what / why / how / where / describe items, it asks what a video model must learn
and the paper lacks: clothing colour, counting, temporal order, location, action and who-is-who.
People are referred to by what a frame shows ("the woman in blue"), not by name, except in
who-is-who questions. Selection balances question types and answers within a movie, and the
correct option's position is uniform, so no majority-answer shortcut beats chance by much.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from data_gen.config import QAConfig
from data_gen.pairs import with_twins
from data_gen.story.procedural import NAMES, OBJECTS
from dreamframe.frames import SamplingRule, handed_frames
from dreamframe.schema import Character, Frame, Movie, QAPair
from dreamframe.vocab import COLOURS, EXPRESSIONS, VERB_ING, VERBS

COUNT_OPTIONS = ["1", "2", "3"]
# "hug" needs two people, so it would be the answer less often than it is a distractor - a prior a blind
# model could learn. Action questions ask about the other verbs, each equally often the answer.
ACTION_VERBS = tuple(v for v in VERBS if v != "hug")


@dataclass
class Candidate:
    qa_type: str
    level: str
    span: tuple[int, int]
    question: str
    answer: str
    pool: list[str] = field(default_factory=list)  # empty: open-ended
    evidence: tuple[int, ...] = ()  # keyframes the clip must show (QAPair.evidence)

    @property
    def key(self) -> tuple[str, str]:
        return self.qa_type, self.answer


def who(c: Character) -> str:
    """How a frame shows a character: gender and clothing colour (colours are unique in a movie)."""
    return f"the {c.gender} in {c.colour}"


def _people(chars: list[Character]) -> str:
    return " and ".join(who(c) for c in chars)


def _event(chars: list[Character], frame: Frame) -> str:
    return f"{_people(chars)} {'are' if len(chars) > 1 else 'is'} {VERB_ING[frame.verb]} at the {frame.place}"


def substory_candidates(movie: Movie, frames: list[Frame], reason: str | None,
                        shown: set[int] | None = None, action_form: str = "which_of_these") -> list[Candidate]:
    """Questions about one sub-story; `shown`: the keyframes its clip hands a model (None: all)."""
    span = (frames[0].index, frames[-1].index + 1)
    cast = [movie.character(n) for n in dict.fromkeys(n for f in frames for n in f.characters)]
    out: list[Candidate] = []
    worn = {c.colour for c in cast}
    unworn = [k for k in COLOURS if k not in worn]
    question = ("What colour is the person in this clip wearing?" if len(cast) == 1
                else "What colour is one of the people in this clip wearing?")
    for c in cast:  # distractors are colours nobody in the clip wears, so exactly one option is right
        out.append(Candidate("colour", "substory", span, question, c.colour, [c.colour, *unworn]))
    if len(movie.characters) == len(COUNT_OPTIONS):  # only a full cast can show every count: answers stay uniform
        out.append(Candidate("count", "substory", span, "How many people appear in this clip?",
                             str(len(cast)), COUNT_OPTIONS))
    places = {f.place for f in frames}
    if len(places) == 1 and len(movie.locations) > 1:
        out.append(Candidate("location", "substory", span, "Where does this clip take place?",
                             frames[0].place, list(movie.locations)))
    done = {f.verb for f in frames}
    absent = [VERB_ING[v] for v in ACTION_VERBS if v not in done]
    out += (_action_at_start(movie, frames, span, absent) if action_form == "at_start"
            else _action_which_of_these(cast, frames, span, absent, shown))
    verb_counts = Counter(f.verb for f in frames)
    for f in frames:
        chars = [movie.character(n) for n in f.characters]
        if verb_counts[f.verb] == 1:
            out.append(Candidate("how", "substory", span,
                                 f"How do{'es' if len(chars) == 1 else ''} {_people(chars)} feel while "
                                 f"{VERB_ING[f.verb]} in this clip?", f.expression, list(EXPRESSIONS)))
    held = [f for f in frames if f.verb == "hold" and f.target]
    if held and len({f.target for f in held}) == 1:
        chars = [movie.character(n) for n in held[0].characters]
        out.append(Candidate("what", "substory", span,
                             f"What {'do' if len(chars) > 1 else 'does'} {_people(chars)} hold in this clip?",
                             held[0].target, list(OBJECTS)))
    if reason:
        lead_name = reason.split(" wants to ")[0]
        place = frames[0].place
        out.append(Candidate("why", "substory", span, f"Why does {lead_name} go to the {place}?",
                             f"Because {reason}."))
    return out


def _action_which_of_these(cast: list[Character], frames: list[Frame], span: tuple[int, int], absent: list[str],
                           shown: set[int] | None) -> list[Candidate]:
    """Which of the options each person does anywhere in the clip (the clip's other actions never offered)."""
    out = []
    for c in cast:
        acting = {f.verb for f in frames if c.name in f.characters} & set(ACTION_VERBS)
        for verb in sorted(acting):
            evidence = tuple(f.index for f in frames if f.verb == verb)
            if shown is not None and not set(evidence) <= shown:  # the clip would miss some of the action
                continue
            out.append(Candidate("action", "substory", span, f"Which of these does {who(c)} do in this clip?",
                                 VERB_ING[verb], [VERB_ING[verb], *absent], evidence))
    return out


def _action_at_start(movie: Movie, frames: list[Frame], span: tuple[int, int], absent: list[str]) -> list[Candidate]:
    """What each person in the clip's first frame does there: the pose is read where the clip begins."""
    first = frames[0]
    if first.verb not in ACTION_VERBS:
        return []
    evidence = tuple(f.index for f in frames if f.verb == first.verb)
    return [Candidate("action", "substory", span, f"What does {who(movie.character(n))} do at the start of this clip?",
                      VERB_ING[first.verb], [VERB_ING[first.verb], *absent], evidence) for n in first.characters]


def chapter_candidates(movie: Movie, chapter, span: tuple[int, int], rng: np.random.Generator,
                       shown: set[int] | None = None, told_apart: bool = False,
                       form: str = "before_after") -> list[Candidate]:
    """Questions about one chapter; temporal ones name only events whose frames the clip shows (`shown`), and
    with `told_apart` (qa.temporal_told_apart) two events that differ in who or where when there are such."""
    out = [Candidate("what", "chapter", span, "What happens in this part of the movie?", chapter.content)]
    frames = [f for sub in chapter.substories for f in sub.frames]
    texts = [_event([movie.character(n) for n in f.characters], f) for f in frames]
    counts = Counter(texts)
    unique = [i for i, t in enumerate(texts) if counts[t] == 1 and (shown is None or frames[i].index in shown)]
    substory_of = {f.index: k for k, sub in enumerate(chapter.substories) for f in sub.frames}
    pairs = [(a, b) for a in unique for b in unique
             if substory_of[frames[a].index] < substory_of[frames[b].index]]
    apart = [(a, b) for a, b in pairs if frames[a].place != frames[b].place
             or frames[a].characters != frames[b].characters]
    if told_apart and apart:
        pairs = apart  # events told apart by who or where, not only by a pose
    if form == "which_first":
        seen = [i for i, f in enumerate(frames) if shown is None or f.index in shown]
        return out + _which_first(frames, substory_of, seen, span, rng) + _where(movie, chapter, span)
    for k in rng.permutation(len(pairs))[:4]:
        a, b = pairs[int(k)]
        if rng.random() < 0.5:  # ask about the later event first half of the time
            a, b, answer = b, a, "after"
        else:
            answer = "before"
        q = f'In this part of the movie, does "{texts[a]}" happen before or after "{texts[b]}"?'
        out.append(Candidate("temporal", "chapter", span, q, answer, ["before", "after"],
                             (frames[a].index, frames[b].index)))
    return out + _where(movie, chapter, span)


def _which_first(frames: list[Frame], substory_of: dict[int, int], shown: list[int], span: tuple[int, int],
                 rng: np.random.Generator) -> list[Candidate]:
    """"Where are they first?" over two shown frames at two places in different sub-stories: the answer is the
    place of the earlier one, and a reversed twin's answer the other (no wording to decode, one cue to order)."""
    pairs = [(a, b) for a in shown for b in shown if frames[a].place != frames[b].place
             and substory_of[frames[a].index] < substory_of[frames[b].index]]
    if not pairs:
        return []
    a, b = pairs[int(rng.integers(len(pairs)))]
    first, then = frames[a].place, frames[b].place
    pool = [first, then] if rng.random() < 0.5 else [then, first]
    return [Candidate("temporal", "chapter", span, f"Where are they first in this clip: at the {pool[0]} or at the "
                      f"{pool[1]}?", first, pool, (frames[a].index, frames[b].index))]


def _where(movie: Movie, chapter, span: tuple[int, int]) -> list[Candidate]:
    goals = Counter(sub.reason for sub in chapter.substories)
    out = []
    for sub in chapter.substories:
        if sub.reason and goals[sub.reason] == 1 and " wants to " in sub.reason:
            name, goal = sub.reason.split(" wants to ", 1)
            out.append(Candidate("where", "chapter", span, f"Where does {name} go to {goal}?", sub.scene,
                                 list(movie.locations)))
    return out


def movie_candidates(movie: Movie) -> list[Candidate]:
    span = (0, movie.num_frames)
    out = []
    names = [c.name for c in movie.characters]
    for c in movie.characters:
        pool = [c.name, *[n for n in names if n != c.name], *[n for n in NAMES[c.gender] if n not in names]]
        out.append(Candidate("identity", "movie", span, f"Who is {who(c)}?", c.name, pool))
    return out


def _options(c: Candidate, num_options: int, rng: np.random.Generator) -> list[str]:
    if not c.pool:
        return []
    distractors = [p for p in dict.fromkeys(c.pool) if p != c.answer]
    if c.qa_type == "identity":  # movie characters first, then other names of that gender
        chosen = distractors[: num_options - 1]
    else:
        chosen = [distractors[i] for i in rng.permutation(len(distractors))[: num_options - 1]]
    chosen.insert(int(rng.integers(len(chosen) + 1)), c.answer)
    return chosen


def _select(cands: list[Candidate], k: int, used_types: Counter, used_answers: Counter,
            rng: np.random.Generator) -> list[Candidate]:
    """Greedy balance: least-used type first, then least-used answer, random tie-break."""
    picked: list[Candidate] = []
    pool = list(cands)
    while pool and len(picked) < k:
        noise = rng.random(len(pool))
        best = min(range(len(pool)), key=lambda i: (used_types[pool[i].qa_type], used_answers[pool[i].key], noise[i]))
        c = pool.pop(best)
        used_types[c.qa_type] += 1
        used_answers[c.key] += 1
        picked.append(c)
        pool = [p for p in pool if not (p.qa_type == c.qa_type and p.question == c.question)]
    return picked


def shown_by(cfg: QAConfig, rule: SamplingRule | str):
    """span -> the keyframes a clip of it hands a model (qa.clip_frames picked with `rule`), None: all frames."""
    def shown(span: tuple[int, int]) -> set[int] | None:
        return None if cfg.clip_frames is None else set(handed_frames(list(range(*span)), cfg.clip_frames, rule))
    return shown


def make_qa(movie: Movie, cfg: QAConfig, seed: int, rule: SamplingRule | str = SamplingRule.segment_centre
            ) -> list[QAPair]:
    """QA pairs for a movie, deterministic in (movie, cfg, seed, rule). With qa.minimal_pairs each temporal and
    action question is followed by its twin (data_gen.pairs), whose extra keyframes join movie.twin_frames."""
    rng = np.random.default_rng([seed, 7919])
    shown = shown_by(cfg, rule)
    used_types: Counter = Counter()
    used_answers: Counter = Counter()
    chosen: list[Candidate] = []

    def select(cands: list[Candidate], k: int) -> list[Candidate]:
        wanted = [c for c in cands if (cfg.types is None or c.qa_type in cfg.types)
                  and (not c.pool or len(set(c.pool)) > 1)]  # a closed question needs a wrong option
        return _select(wanted, k, used_types, used_answers, rng)

    start = 0
    for chapter in movie.chapters:
        ch_start = start
        for sub in chapter.substories:
            span = (start, start + len(sub.frames))
            chosen += select(substory_candidates(movie, sub.frames, sub.reason, shown(span), cfg.action_form),
                             cfg.per_substory)
            start += len(sub.frames)
        chosen += select(chapter_candidates(movie, chapter, (ch_start, start), rng, shown((ch_start, start)),
                                            cfg.temporal_told_apart, cfg.temporal_form), cfg.per_chapter)
    span = (0, movie.num_frames)
    describe = Candidate("describe", "movie", span, "Describe the movie in detail.", movie.overview)
    chosen += select([describe], 1) + select(movie_candidates(movie), cfg.per_movie - 1)
    questions = [
        QAPair(id=f"{movie.id}-q{i:03d}", question=c.question, answer=c.answer, qa_type=c.qa_type, level=c.level,
               frame_start=c.span[0], frame_end=c.span[1], options=_options(c, cfg.num_options, rng),
               evidence=list(c.evidence))
        for i, c in enumerate(chosen)
    ]
    return with_twins(movie, questions, seed) if cfg.minimal_pairs else questions
