"""The paper's Stage-1 rules as named checks on what the LLM writes (DreamFrame, Stage 1).

A JSON schema says what shape a reply has; these rules say whether it makes sense: a title that is
not the style description, a one-word style keyword, short places that are not people, real and
distinct look-alikes, frames in the paper's template, questions that are questions. Each rule has a
name (counted in the manifest) and a reason (sent back to the model with the offending values, in
the client's repair turn). A reply - or a finished movie (`movie_draft`) - is first turned into a
`Draft`, the few things the rules read; a rule whose part is absent from a draft stays quiet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from data_gen.story.procedural import STYLES
from dreamframe.schema import DialogueLine, Frame, Movie
from dreamframe.vocab import COLOURS, EXPRESSIONS, VERB_ING, VERBS

RULES_FAILED = "semantic rules failed"
STYLE_WORDS = frozenset(s.lower() for s in STYLES) | {
    "baroque", "renaissance", "expressionist", "cinematic", "realistic", "photorealistic", "anime", "cartoon",
    "futuristic", "steampunk", "victorian", "rustic", "ethereal", "moody", "monochrome", "sepia", "neon",
    "fantasy", "classic", "modern", "elegant", "whimsy", "magical", "mystical", "bright", "dark", "comic",
}
QUESTION_WORDS = {"what", "which", "why", "how", "where", "who", "whom", "whose", "when", "do", "does", "did",
                  "is", "are", "was", "were", "can", "could", "will", "would", "should", "has", "have", "describe"}
WH_WORDS = {"what", "which", "why", "how", "where", "who", "whom", "whose", "when"}
TYPE_WORDS = {"what": {"what", "which"}, "why": {"why"}, "how": {"how"}, "where": {"where"}}
STOP = {"a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "with", "for", "from", "by", "is", "are",
        "was", "were", "be", "it", "its", "his", "her", "their", "he", "she", "they", "this", "that", "because"}
GENERIC_PEOPLE = {"actor", "actress", "man", "woman", "person", "someone", "somebody", "celebrity", "star",
                  "famous", "well-known", "unknown", "character", "guy", "girl", "boy", "lady", "gentleman",
                  "none", "anyone", "nobody", "people"}
NAME_PARTICLES = {"de", "da", "del", "della", "di", "du", "dos", "van", "von", "der", "la", "le", "bin", "al"}
PLACEHOLDER = re.compile(
    r"\b(?:man/woman|woman/man|he/she|she/he|his/her|her/his)\b"
    r"|\b(?:a|an|the|some) (?:well[- ]known|famous|popular|random) (?:actor|actress|celebrity|star)\b"
    r"|\blooks? like (?:a|an|the) (?:actor|actress|celebrity|star|person)\b"
    r"|<[^<>]{1,40}>|\{[^{}]{0,40}\}|\$[A-Za-z_]+|\[(?:name|actor|place|location|character|colou?r|title)[^\]]*\]"
    r"|\blorem ipsum\b|\b(?:tbd|todo|xxx|placeholder)\b|\bn/a\b", re.I)
TEMPLATE = re.compile(r"^generate an image in (?P<style>[A-Za-z]+) style: At (?P<place>[^,]+), (?P<who>.+) "
                      rf"(?:is|are) (?P<doing>(?:{'|'.join(VERB_ING.values())})\b.*), (?P<expression>[a-z]+)$")


@dataclass
class Draft:
    """What one reply (or a finished movie) says, in the terms the rules speak; absent parts are None/empty."""

    names: list[str] = field(default_factory=list)
    """The movie's character names (written by this reply at level 1, given by the movie afterwards)."""
    locations: list[str] = field(default_factory=list)
    style_keyword: str | None = None
    title: str | None = None
    style_description: str | None = None
    characters: list[dict[str, str]] = field(default_factory=list)
    """name, gender, lookalike of each character."""
    goals: list[tuple[str, str]] = field(default_factory=list)
    frames: list[tuple[str, Frame]] = field(default_factory=list)
    dialogue: list[tuple[str, DialogueLine]] = field(default_factory=list)
    qa: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)
    """Every free text with where it is (a JSON path)."""
    verdict: tuple[str, str, str, str] | None = None
    """(verdict, evidence, answer, story text) of a QA check."""


@dataclass(frozen=True)
class Rule:
    name: str
    reason: str
    """The paper's rule in one sentence; the model reads it when a reply breaks the rule."""
    find: Callable[[Draft], list[str]]
    """The offending values of a draft, one short item each (empty: the rule holds)."""


@dataclass(frozen=True)
class Violation:
    rule: str
    reason: str
    items: tuple[str, ...]

    def __str__(self) -> str:
        return f"[{self.rule}] {self.reason}: {', '.join(self.items)}"


# -- helpers ----------------------------------------------------------------------------------------
def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text.lower())


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _content(text: str) -> set[str]:
    return {_stem(w) for w in _words(text) if w not in STOP}


def _lower_names(d: Draft) -> set[str]:
    return {n.lower() for n in d.names}


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}.{i}" if path else str(i))


def _short(text: str, n: int = 60) -> str:
    return repr(text if len(text) <= n else text[: n - 3] + "...")


# -- the rules --------------------------------------------------------------------------------------
def _title_not_style(d: Draft) -> list[str]:
    if d.title is None:
        return []
    title = _content(d.title)
    style = _content(d.style_description or "")
    same = " ".join(_words(d.title)) in (" ".join(_words(d.style_description or "")), (d.style_keyword or "").lower())
    if same or d.title.count(",") >= 2 or (len(title) >= 3 and len(title & style) / len(title) >= 0.75):
        return [f"title {_short(d.title)}"]
    return []


def _style_keyword(d: Draft) -> list[str]:
    if d.style_keyword is None or d.style_description is None:  # judged where the description is written
        return []
    k = d.style_keyword.strip()
    if not re.fullmatch(r"[A-Za-z]{2,20}", k):
        return [f"{_short(k)} is not one word"]
    taken = _lower_names(d) | {w for loc in d.locations for w in _words(loc)}
    if k.lower() in taken:
        return [f"{_short(k)} is a character or a place"]
    described = {w[:5] for w in _words(d.style_description)}
    if k.lower() not in STYLE_WORDS and k.lower()[:5] not in described:
        return [f"{_short(k)} is neither a known style word nor part of the style description"]
    return []


def _location_words(d: Draft) -> list[str]:
    return [_short(loc) for loc in d.locations
            if len(loc.split()) > 2 or re.search(r"\w's\b|\ws'(\s|$)", loc) or loc.lower().split()[0] in STOP]


def _location_is_place(d: Draft) -> list[str]:
    people = _lower_names(d) | {c["lookalike"].lower() for c in d.characters}
    return [_short(loc) for loc in d.locations
            if loc.lower() in people | set(COLOURS) or set(_words(loc)) & _lower_names(d)]


def _repeated(values: list[str]) -> list[str]:
    """Values given more than once (compared by their words, case-insensitively), each listed once."""
    count: dict[str, list[str]] = {}
    for v in values:
        count.setdefault(" ".join(_words(v)), []).append(v)
    return [same[0] for same in count.values() if len(same) > 1]


def _distinct_locations(d: Draft) -> list[str]:
    return [f"{loc!r} more than once" for loc in _repeated(d.locations)]


def _distinct_names(d: Draft) -> list[str]:
    return [f"{n!r} twice" for n in _repeated([c["name"] for c in d.characters])]


def _distinct_lookalikes(d: Draft) -> list[str]:
    return [f"{n!r} for more than one character" for n in _repeated([c["lookalike"] for c in d.characters])]


def _lookalike_is_actor(d: Draft) -> list[str]:
    bad = []
    for c in d.characters:
        look = c["lookalike"].strip()
        words = look.split()
        if (look.lower() in _lower_names(d) or set(_words(look)) & (GENERIC_PEOPLE | {c["name"].lower()})
                or re.search(r"\w's\b", look) or not 1 <= len(words) <= 4
                or not all(w[:1].isupper() or w.lower() in NAME_PARTICLES for w in words)
                or not re.fullmatch(r"[^\W\d_][\w.'-]*( [\w.'-]+)*", look)):
            bad.append(f"{c['name']} looks like {_short(look)}")
    return bad


def _goal_is_action(d: Draft) -> list[str]:
    bad = []
    for path, goal in d.goals:
        words = _words(goal)
        if not words or words[0] in STOP | _lower_names(d) | {"i", "you", "we"} or not set(words) - _lower_names(d) - STOP:
            bad.append(f"{path} {_short(goal)}")
    return bad


def _frame_template(d: Draft) -> list[str]:
    bad = []
    for path, f in d.frames:
        m = TEMPLATE.match(f.description)
        problems = []
        if m is None:
            problems.append("not in the template")
        else:
            if d.style_keyword and m["style"] != d.style_keyword:
                problems.append(f"style {m['style']!r}")
            if m["expression"] not in EXPRESSIONS:
                problems.append(f"expression {m['expression']!r}")
        if f.verb not in VERBS:
            problems.append(f"verb {f.verb!r}")
        if d.locations and f.place not in d.locations:
            problems.append(f"place {f.place!r} is not a location")
        problems += [f"{n!r} is not a character" for n in f.characters if n not in d.names]
        if f.verb == "hold" and f.target is not None:
            obj = _words(f.target)
            if not 1 <= len(obj) <= 3 or set(obj) & (_lower_names(d) | GENERIC_PEOPLE) or PLACEHOLDER.search(f.target):
                problems.append(f"holds {_short(f.target, 30)}")
        if problems:
            bad.append(f"{path} ({'; '.join(problems)})")
    return bad


def _dialogue_speaker(d: Draft) -> list[str]:
    bad = []
    for path, line in d.dialogue:
        label = re.match(r"\s*([A-Z][\w'-]{0,20}):", line.text)
        others = (set(d.names) - {line.speaker}) | {w.title() for w in GENERIC_PEOPLE | {"narrator", "speaker"}}
        if line.speaker not in d.names:
            bad.append(f"{path} speaker {line.speaker!r} is not a character")
        elif label and label[1] in others:
            bad.append(f"{path} {line.speaker} speaks a line labelled {label[1]!r}")
        elif not set(_words(line.text)) - _lower_names(d):
            bad.append(f"{path} {_short(line.text)} says nothing")
    return bad


def _qa_question(d: Draft) -> list[str]:
    bad = []
    for path, q in d.qa:
        words = _words(q["question"])
        asks = bool(set(words) & QUESTION_WORDS) or q["question"].strip().endswith("?")
        topic = set(words) - WH_WORDS - _lower_names(d) - STOP  # "What is Thelma?" asks about nothing
        if len(words) < 3 or not asks or not topic:
            bad.append(f"{path} {_short(q['question'])}")
    return bad


def _qa_answer(d: Draft) -> list[str]:
    bad = []
    for path, q in d.qa:
        answer, question = _content(q["answer"]), _content(q["question"])
        misused = [n for n in d.names if re.search(rf"\bto {re.escape(n.lower())}\b", q["answer"])]
        picks = " or " in q["question"].lower() and len(_words(q["answer"])) <= 3  # "... before or after ...?"
        if not answer or (answer <= question and not picks) or misused:
            bad.append(f"{path} {_short(q['answer'])} to {_short(q['question'])}")
    return bad


def _qa_type(d: Draft) -> list[str]:
    return [f"{path} {q['qa_type']!r} for {_short(q['question'])}" for path, q in d.qa
            if q["qa_type"] in TYPE_WORDS and not TYPE_WORDS[q["qa_type"]] & set(_words(q["question"]))]


def _no_placeholder(d: Draft) -> list[str]:
    return [f"{path} {m[0]!r}" for path, text in d.texts if (m := PLACEHOLDER.search(text))]


def _no_loop(d: Draft) -> list[str]:
    bad = []
    for path, text in d.texts:
        words = _words(text)
        grams = [" ".join(words[i:i + 4]) for i in range(len(words) - 3)]
        looped = next((g for g in dict.fromkeys(grams) if grams.count(g) >= 3), None)
        if looped:
            bad.append(f"{path} repeats {looped!r}")
    return bad


def _verify_evidence(d: Draft) -> list[str]:
    if d.verdict is None or d.verdict[0] != "supported":
        return []
    _, evidence, answer, story = d.verdict
    quote = " ".join(_words(evidence))
    if len(quote.split()) < 3 or f" {quote} " not in f" {' '.join(_words(story))} ":
        return [f"evidence {_short(evidence)} is not copied from the story text"]
    if not _content(evidence) & _content(answer):
        return [f"evidence {_short(evidence)} does not mention the answer"]
    return []


RULES: tuple[Rule, ...] = (
    Rule("title_not_style", "the title names the story; it is not the style description", _title_not_style),
    Rule("style_keyword", "the style keyword is ONE word naming the pictures' style (like Gothic, Romantic, Noir), "
         "taken from the style description", _style_keyword),
    Rule("location_words", "a location is a common place of one or two words, without possessives or articles",
         _location_words),
    Rule("location_is_place", "a location is a place, never a character's name, an actor or a colour",
         _location_is_place),
    Rule("distinct_locations", "every location is a different place", _distinct_locations),
    Rule("distinct_names", "every character has a different first name", _distinct_names),
    Rule("distinct_lookalikes", "every character looks like a different well-known actor", _distinct_lookalikes),
    Rule("lookalike_is_actor", "a look-alike is the full name of a real, well-known actor or actress - never a "
         "character's name (its own included) or a placeholder like 'a well-known actor'", _lookalike_is_actor),
    Rule("goal_is_action", "a goal is what the lead wants to do, starting with a verb (like 'find the lost letter')",
         _goal_is_action),
    Rule("frame_template", "a frame follows 'generate an image in <Style> style: At <place>, <somebody> is <doing>, "
         "<expression>' with an allowed verb, a location and characters of the movie, and a held thing",
         _frame_template),
    Rule("dialogue_speaker", "each dialogue line is spoken by a character of the movie and says something",
         _dialogue_speaker),
    Rule("qa_question", "a question asks something (a question word or '?', at least three words), not just names",
         _qa_question),
    Rule("qa_answer", "an answer tells something the question does not already say", _qa_answer),
    Rule("qa_type", "qa_type is the question's question word (what, why, how or where)", _qa_type),
    Rule("no_placeholder", "no placeholder text ('man/woman', 'a well-known actor', <...>, [name], TODO)",
         _no_placeholder),
    Rule("no_loop", "no text repeats itself (the same four words three times)", _no_loop),
    Rule("verify_evidence", "a 'supported' verdict quotes, word for word, the part of the story text that supports "
         "the answer", _verify_evidence),
)
RULE_NAMES: tuple[str, ...] = tuple(r.name for r in RULES)


def check(draft: Draft, rules: tuple[Rule, ...] = RULES) -> list[Violation]:
    """Every rule the draft breaks, with (up to six of) the offending values (empty: the draft passes)."""
    found = ((rule, rule.find(draft)) for rule in rules)
    return [Violation(rule.name, rule.reason, tuple(items[:6])) for rule, items in found if items]


def feedback(violations: list[Violation]) -> str:
    """One line (it also becomes the manifest's failure reason), naming each rule, its reason and the values."""
    return f"{RULES_FAILED}: " + " | ".join(str(v) for v in violations)


# -- drafts from replies and movies -----------------------------------------------------------------
def _qa_items(raw: list[dict[str, Any]], path: str) -> list[tuple[str, dict[str, str]]]:
    return [(f"{path}.{i}", q) for i, q in enumerate(raw)]


def outline_draft(reply: dict[str, Any]) -> Draft:
    listed = [loc.strip() for loc in reply["locations"]]
    known = {loc.lower() for loc in listed}
    scenes = [loc.strip() for ch in reply["chapters"] for loc in ch["scene"] if loc.strip().lower() not in known]
    return Draft(names=[c["name"] for c in reply["characters"]], locations=listed + list(dict.fromkeys(scenes)),
                 style_keyword=reply["style_keyword"], title=reply["title"],
                 style_description=reply["style_description"], characters=reply["characters"],
                 qa=[item for k, ch in enumerate(reply["chapters"]) for item in _qa_items(ch["qa"], f"chapters.{k}.qa")],
                 texts=list(_walk(reply)))


def chapter_draft(reply: dict[str, Any], names: list[str], locations: list[str]) -> Draft:
    return Draft(names=names, locations=locations, goals=[(f"substories.{j}.goal", s["goal"])
                                                          for j, s in enumerate(reply["substories"])],
                 qa=_qa_items(reply["qa"], "qa"), texts=list(_walk(reply)))


def substory_draft(reply: dict[str, Any], frames: list[Frame], dialogue: list[DialogueLine], names: list[str],
                   locations: list[str], style_keyword: str) -> Draft:
    """Level 3: the frames as composed from the reply (the template rule reads their descriptions)."""
    return Draft(names=names, locations=locations, style_keyword=style_keyword,
                 frames=[(f"frames.{i}", f) for i, f in enumerate(frames)],
                 dialogue=[(f"dialogue.{i}", line) for i, line in enumerate(dialogue)],
                 qa=_qa_items(reply["qa"], "qa"), texts=list(_walk(reply)))


def verdict_draft(reply: dict[str, Any], answer: str, story: str) -> Draft:
    return Draft(verdict=(reply["verdict"], reply.get("evidence", ""), answer, story))


def movie_draft(movie: Movie) -> Draft:
    """A finished movie in the rules' terms: every rule that applies to its parts, at once."""
    texts = [("title", movie.title), ("overview", movie.overview), ("tone", movie.tone),
             ("style_description", movie.style_description)]
    texts += [(f"chapters.{k}.content", ch.content) for k, ch in enumerate(movie.chapters)]
    subs = [(f"chapters.{k}.substories.{j}", s) for k, ch in enumerate(movie.chapters) for j, s in enumerate(ch.substories)]
    texts += [(f"{p}.content", s.content) for p, s in subs] + [(f"{p}.reason", s.reason) for p, s in subs]
    texts += [(f"qa.{q.id}", f"{q.question} {q.answer}") for q in movie.qa]
    goals = [(f"{p}.reason", s.reason.split(" wants to ", 1)[1]) for p, s in subs if " wants to " in s.reason]
    return Draft(names=[c.name for c in movie.characters], locations=list(movie.locations),
                 style_keyword=movie.style_keyword, title=movie.title, style_description=movie.style_description,
                 characters=[c.model_dump() for c in movie.characters], goals=goals,
                 frames=[(f"frames.{f.index}", f) for f in movie.frames],
                 dialogue=[(f"{p}.dialogue.{i}", line) for p, s in subs for i, line in enumerate(s.dialogue)],
                 qa=[(f"qa.{q.id}", {"qa_type": q.qa_type, "question": q.question, "answer": q.answer})
                     for q in movie.qa],
                 texts=texts + [(f"{p}.dialogue.{i}", line.text) for p, s in subs for i, line in enumerate(s.dialogue)])


def audit_movie(movie: Movie) -> list[Violation]:
    """The rules a finished movie breaks (an accepted LLM movie breaks none)."""
    return check(movie_draft(movie))
