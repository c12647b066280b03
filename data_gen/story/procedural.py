"""A seeded story writer that fills the movie schema without a language model.

It follows the paper's expansion (movie -> l chapters -> m sub-stories -> n frames) and its frame
template, so the rest of the pipeline cannot tell it from an LLM-written movie except by wording.
Movie i is a pure function of (seed, i).
"""

from __future__ import annotations

import numpy as np

from data_gen.config import GenerateConfig, StoryConfig
from dreamframe.schema import Chapter, Character, DialogueLine, Frame, Movie, SubStory
from dreamframe.vocab import COLOURS, EXPRESSIONS, FRAME_TEMPLATE, GENRE_MIX, VERB_ING, VERBS

NAMES = {
    "man": ["Tom", "Arthur", "Leo", "Marcus", "Hugo", "Daniel", "Felix", "Oscar", "Victor", "Samuel"],
    "woman": ["Anna", "Clara", "Maya", "Elena", "Rose", "Iris", "Nora", "Julia", "Lucy", "Sofia"],
}
LOOKALIKES = {
    "man": ["Tom Hanks", "Keanu Reeves", "Denzel Washington", "Ryan Gosling", "Jackie Chan", "Hugh Jackman"],
    "woman": ["Emma Stone", "Meryl Streep", "Zendaya", "Natalie Portman", "Viola Davis", "Michelle Yeoh"],
}
PLACES = [
    "old library", "harbor", "train station", "forest", "kitchen", "rooftop", "beach", "market",
    "castle hall", "garden", "classroom", "hospital", "cafe", "museum", "bridge", "desert",
    "office", "bedroom", "theater", "chapel", "laboratory", "park", "farm", "lighthouse",
]
OBJECTS = ["book", "cup", "letter", "flower", "umbrella", "lamp", "key", "phone"]
GOALS = [
    "find a lost letter", "meet an old friend", "hide from the storm", "look for a missing key",
    "deliver a secret message", "buy a birthday present", "escape the crowd", "study an old map",
    "say goodbye", "return a borrowed book", "wait for the last train", "search for clues",
    "celebrate good news", "ask for help", "fix a broken lamp", "make peace after a fight",
]
STYLES = ["Gothic", "Romantic", "Dramatic", "Whimsical", "Noir", "Pastel", "Vintage", "Cyberpunk",
          "Watercolor", "Minimalist", "Surreal", "Epic", "Dreamy", "Retro", "Sketch", "Impressionist"]
STYLE_PHRASES = ["soft light", "deep shadows", "muted colours", "bold outlines", "grainy texture",
                 "warm glow", "cold palette", "painterly strokes", "high contrast", "faded film look"]
TONES = ["hopeful", "tense", "melancholic", "playful", "mysterious", "tender", "dark", "uplifting"]
TITLE_ADJ = ["Silent", "Last", "Hidden", "Golden", "Broken", "Distant", "Secret", "Endless", "Quiet", "Lost"]
TITLE_NOUN = ["Harbor", "Letter", "Garden", "Promise", "Winter", "Key", "Journey", "Lantern", "Bridge", "Song"]
LINES = [
    "I came to the {place} to {goal}.",
    "Do you think we can {goal} before night falls?",
    "Why do you look so {expression}?",
    "Stay close to me here at the {place}.",
    "I never thought I would {goal} with you.",
    "Listen, there is something I must tell you.",
]


def _pick(rng: np.random.Generator, items, k: int | None = None, replace: bool = False):
    if k is None:
        return items[int(rng.integers(len(items)))]
    return [items[i] for i in rng.choice(len(items), size=k, replace=replace)]


def _join(items: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return " and ".join(filter(None, [", ".join(items[:-1]), items[-1]]))


def _somebody(chars: list[Character]) -> str:
    return " and ".join(c.phrase for c in chars)


def _doing(verb: str, chars: list[Character], target: str | None) -> str:
    ing = VERB_ING[verb]
    if verb == "hold":
        return f"{ing} a {target}"
    if verb == "hug":
        return f"{ing} each other"
    if len(chars) > 1 and verb in ("look", "talk"):
        return f"{ing} {'at' if verb == 'look' else 'to'} each other"
    return ing


def frame_description(style: str, place: str, chars: list[Character], verb: str, target: str | None,
                      expression: str) -> str:
    """The paper's Level-3 frame template, with every character's look and colour verbatim."""
    somebody = _somebody(chars)
    doing = _doing(verb, chars, target)
    if len(chars) > 1:  # "X and Y is ..." -> "are"
        return FRAME_TEMPLATE.format(style=style, place=place, somebody=somebody, doing=doing,
                                     expression=expression).replace(f"{somebody} is ", f"{somebody} are ", 1)
    return FRAME_TEMPLATE.format(style=style, place=place, somebody=somebody, doing=doing, expression=expression)


def _characters(rng: np.random.Generator, cfg: StoryConfig) -> list[Character]:
    weights = np.asarray(cfg.character_weights, dtype=float)
    count = int(rng.choice(np.arange(1, len(weights) + 1), p=weights / weights.sum()))
    colours = _pick(rng, list(COLOURS), count)
    chars, used = [], set()
    for colour in colours:  # names and look-alikes are distinct within a movie
        gender = _pick(rng, ["man", "woman"])
        name = _pick(rng, [n for n in NAMES[gender] if n not in used])
        lookalike = _pick(rng, [a for a in LOOKALIKES[gender] if a not in used])
        used.update((name, lookalike))
        chars.append(Character(name=name, gender=gender, lookalike=lookalike, colour=colour))
    return chars


def _substory(rng, style: str, place: str, chars: list[Character], cfg: StoryConfig, start: int) -> SubStory:
    size = int(rng.integers(1, len(chars) + 1))  # uniform, so a full cast's clips answer "how many" uniformly
    cast = sorted(_pick(rng, chars, size), key=chars.index)
    goal = _pick(rng, GOALS)
    lead = cast[0]
    pronoun = "he" if lead.gender == "man" else "she"
    verbs = [v for v in VERBS if v != "hug" or len(cast) > 1]
    frames = []
    for k in range(cfg.frames):
        verb = _pick(rng, verbs)
        target = _pick(rng, OBJECTS) if verb == "hold" else None
        expression = _pick(rng, EXPRESSIONS)
        frames.append(Frame(index=start + k, place=place, characters=[c.name for c in cast], verb=verb,
                            target=target, expression=expression,
                            description=frame_description(style, place, cast, verb, target, expression)))
    dialogue = []
    for _ in range(cfg.dialogue_lines):
        after = start + int(rng.integers(cfg.frames))
        expr = frames[after - start].expression
        text = _pick(rng, LINES).format(place=place, goal=goal, expression=expr)
        dialogue.append(DialogueLine(after_frame=after, speaker=_pick(rng, cast).name, text=text))
    dialogue.sort(key=lambda d: d.after_frame)
    names = _join([c.name for c in cast])
    subject, why = ("they are", lead.name) if len(cast) > 1 else (f"{pronoun} is", pronoun)
    acts = [f"{subject} {VERB_ING[f.verb]}" for f in frames[:3]]
    content = (f"{names} {'go' if len(cast) > 1 else 'goes'} to the {place} because {why} wants to {goal}. "
               + " ".join(f"{'Then ' + a if k else a[0].upper() + a[1:]}." for k, a in enumerate(acts)))
    return SubStory(scene=place, content=content, reason=f"{lead.name} wants to {goal}", frames=frames,
                    dialogue=dialogue)


def write_movie(cfg: StoryConfig, seed: int, index: int, movie_id: str) -> Movie:
    rng = np.random.default_rng([seed, index])
    genres = list(GENRE_MIX)
    p = np.asarray(list(GENRE_MIX.values()))
    genre = genres[int(rng.choice(len(genres), p=p / p.sum()))]
    style = _pick(rng, STYLES)
    chars = _characters(rng, cfg)
    locations = _pick(rng, PLACES, min(cfg.locations, len(PLACES)))
    chapters, start = [], 0
    for _ in range(cfg.chapters):
        scene = _pick(rng, locations, int(rng.integers(1, min(3, len(locations)) + 1)))
        subs = []
        for _ in range(cfg.substories):
            subs.append(_substory(rng, style, _pick(rng, scene), chars, cfg, start))
            start += cfg.frames
        content = " ".join(s.content.split(". ")[0] + "." for s in subs)
        chapters.append(Chapter(scene=scene, content=content, substories=subs))
    title = f"The {_pick(rng, TITLE_ADJ)} {_pick(rng, TITLE_NOUN)}"
    who = _join([f"{c.name} ({c.phrase})" for c in chars])
    article = "An" if genre[0] in "aeiou" else "A"
    overview = (f"{article} {genre} movie about {who}. " + " ".join(ch.content.split(". ")[0] + "." for ch in chapters))
    return Movie(
        id=movie_id, title=title, genre=genre, overview=overview, tone=_pick(rng, TONES),
        style_description=f"{style}, " + ", ".join(_pick(rng, STYLE_PHRASES, 3)),
        style_keyword=style, characters=chars, locations=locations, chapters=chapters,
        source={"story": "procedural"},
    )


class ProceduralStoryWriter:
    """story.backend `procedural` (data_gen.story.writers.StoryWriter): each movie written in its worker from
    (seed, index) alone; no batch stage, nothing extra in the manifest."""

    batch_size = 0

    def __init__(self, cfg: GenerateConfig):
        self.cfg = cfg

    def batch_stage(self, progress: bool) -> None:
        return None

    def story(self, index: int, movie_id: str) -> Movie:
        return write_movie(self.cfg.story, self.cfg.seed, index, movie_id)

    def manifest(self, finished: list[str]) -> dict:
        return {}
