"""The JSON schemas of the LLM plot writer's replies, built per movie.

Text lengths follow the prompts (1-2 sentences for a content or an answer, 3-5 for the overview); a grammar
enforces them, so a small model caught in a loop still closes its strings and the rules see the loop.

Locations, names, verbs, expressions, colours and QA types are enums, so a server with structured
output or the local grammar cannot leave the closed vocabularies; what a schema cannot say (meaning)
is checked by data_gen.story.rules.
"""

from __future__ import annotations

from typing import Any

from data_gen.config import GenerateConfig
from dreamframe.vocab import COLOURS, EXPRESSIONS, QA_TYPES_PAPER, VERBS

QA_KINDS = [t for t in QA_TYPES_PAPER if t != "describe"]
# Shapes a grammar can enforce, so a small model cannot write what the rules would reject anyway. Lengths
# are bounded inside the regex (grammars ignore maxLength next to a pattern), at most {n,128}: xgrammar
# 0.2.8 fails to compile a repetition bound above 128 against a tokenizer.
WORD = r"[A-Za-z][A-Za-z'-]{0,15}"
LOCATION = f"^{WORD}( {WORD})?$"
TITLE = r"^[^,\n]{1,80}$"  # a film's name, not a comma list of style words
ACTOR = r"^[A-Z][A-Za-z'.-]{1,15}(( (de|da|di|du|van|von|der|la|le))? [A-Z][A-Za-z'.-]{1,15}){1,3}$"  # a full name
QUESTION = r"^(What|Why|How|Where|Which) [^?\n]{3,128}\?$"
GOAL = r"^[a-z][A-Za-z' -]{2,79}$"  # what to do, starting with a (lower-case) verb
THING = r"^[a-z][a-z -]{1,29}$"


def _text(max_len: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_len}


def _array(items: dict[str, Any], lo: int, hi: int | None = None) -> dict[str, Any]:
    return {"type": "array", "items": items, "minItems": lo, "maxItems": hi if hi is not None else lo}


def _object(props: dict[str, Any], title: str | None = None) -> dict[str, Any]:
    out = {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}
    return {"title": title, **out} if title else out


def _pattern(regex: str) -> dict[str, Any]:
    return {"type": "string", "pattern": regex}


def qa_schema(n: int) -> dict[str, Any]:
    """The question comes first, so its type is chosen after it is written."""
    return _array(_object({"question": _pattern(QUESTION), "qa_type": {"enum": QA_KINDS}, "answer": _text(250)}), n)


def level1_schema(cfg: GenerateConfig, num_characters: int) -> dict[str, Any]:
    character = _object({"name": {"type": "string", "pattern": "^[A-Z][a-z]{1,15}$"},
                         "gender": {"enum": ["man", "woman"]}, "lookalike": _pattern(ACTOR),
                         "colour": {"enum": list(COLOURS)}})
    chapter = _object({"scene": _array({"type": "string", "pattern": LOCATION}, 1, 3),
                       "content": _text(300), "qa": qa_schema(cfg.plot.qa_level1)})
    return _object({
        "title": _pattern(TITLE), "overview": _text(700), "tone": _text(60), "style_description": _text(200),
        "style_keyword": {"type": "string", "pattern": "^[A-Za-z]{2,20}$"},
        "locations": _array({"type": "string", "pattern": LOCATION}, cfg.story.locations),
        "characters": _array(character, num_characters),
        "chapters": _array(chapter, cfg.story.chapters),
    }, "movie_outline")


def level2_schema(cfg: GenerateConfig, scene: list[str], names: list[str]) -> dict[str, Any]:
    sub = _object({"place": {"enum": scene}, "lead": {"enum": names}, "goal": _pattern(GOAL), "content": _text(300)})
    return _object({"substories": _array(sub, cfg.story.substories), "qa": qa_schema(cfg.plot.qa_level2)},
                   "chapter_expansion")


def level3_schema(cfg: GenerateConfig, names: list[str]) -> dict[str, Any]:
    frame = _object({"characters": _array({"enum": names}, 1, len(names)), "verb": {"enum": list(VERBS)},
                     "expression": {"enum": list(EXPRESSIONS)}, "object": _pattern(THING)})
    line = _object({"after_frame": {"type": "integer", "minimum": 0, "maximum": cfg.story.frames - 1},
                    "speaker": {"enum": names}, "text": _text(160)})
    return _object({"frames": _array(frame, cfg.story.frames), "dialogue": _array(line, cfg.story.dialogue_lines),
                    "qa": qa_schema(cfg.plot.qa_level3)}, "substory_frames")


# the quote comes first: a model that must find the supporting sentence before its verdict judges better
VERIFY_SCHEMA = _object({"evidence": _text(300), "verdict": {"enum": ["supported", "unsupported"]}}, "qa_verdict")
