"""A scripted screenwriter for the loopback LLM server: replies that fit each level's schema AND the
paper's rules, made from the request (enums, prompt), so the rules stay quiet on them; `spoil` turns
one level's reply into a bad one for a rule test."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

PLACES = ["harbor", "old library", "train station", "market", "garden", "rooftop", "bridge", "kitchen",
          "forest", "museum", "cafe", "beach", "chapel", "office"]
PEOPLE = [("Anna", "woman", "Meryl Streep"), ("Tom", "man", "Denzel Washington"), ("Clara", "woman", "Viola Davis"),
          ("Leo", "man", "Keanu Reeves")]
GOALS = ["find the lost letter", "meet an old friend", "repair the broken lamp", "catch the last train"]


def title_of(body: dict[str, Any]) -> str:
    return body["response_format"]["json_schema"]["schema"].get("title", "")


def is_repair(body: dict[str, Any]) -> bool:
    return any(m["role"] == "assistant" for m in body["messages"])


def _enum(schema: dict[str, Any], *path: str) -> list[Any]:
    for key in path:
        schema = schema["properties"][key] if key != "items" else schema["items"]
    return schema["enum"]


def _qa(n: int, who: str, goal: str, place: str, k: int) -> list[dict[str, str]]:
    pairs = [{"qa_type": "why", "question": f"Why does {who} go to the {place}?",
              "answer": f"Because {who} wants to {goal}."},
             {"qa_type": "where", "question": f"Where does {who} try to {goal}?",
              "answer": f"It happens at the {place}, in part {k + 1} of the story."}]
    return [pairs[i % 2] for i in range(n)]


def outline(schema: dict[str, Any], prompt: str) -> dict[str, Any]:
    n_loc = schema["properties"]["locations"]["minItems"]
    n_char = schema["properties"]["characters"]["minItems"]
    chapters = schema["properties"]["chapters"]
    n_ch, n_qa = chapters["minItems"], chapters["items"]["properties"]["qa"]["minItems"]
    colours = _enum(schema, "characters", "items", "colour")
    genre = prompt.split("Write a new ", 1)[1].split(" movie")[0]
    premise = prompt.split("Idea to start from: ", 1)[1].split(".")[0]
    cast = PEOPLE[:n_char]
    places = PLACES[:n_loc]
    return {
        "title": f"The {genre.title()} of the Harbor",
        "overview": f"{cast[0][0]} must {premise.removeprefix('someone must ')} before winter ends.",
        "tone": "hopeful, tense",
        "style_description": "gothic arches, deep shadows, muted colours, candle light",
        "style_keyword": "Gothic",
        "locations": places,
        "characters": [{"name": n, "gender": g, "lookalike": a, "colour": colours[i]} for i, (n, g, a) in enumerate(cast)],
        "chapters": [{"scene": [places[k % n_loc]], "content": f"{cast[0][0]} searches the {places[k % n_loc]}.",
                      "qa": _qa(n_qa, cast[0][0], GOALS[k % len(GOALS)], places[k % n_loc], k)} for k in range(n_ch)],
    }


def chapter(schema: dict[str, Any]) -> dict[str, Any]:
    subs = schema["properties"]["substories"]
    places, leads = _enum(schema, "substories", "items", "place"), _enum(schema, "substories", "items", "lead")
    n_qa = schema["properties"]["qa"]["minItems"]
    out = [{"place": places[j % len(places)], "lead": leads[j % len(leads)], "goal": GOALS[j % len(GOALS)],
            "content": f"{leads[j % len(leads)]} arrives at the {places[j % len(places)]} and looks around."}
           for j in range(subs["minItems"])]
    return {"substories": out, "qa": _qa(n_qa, out[0]["lead"], out[0]["goal"], out[0]["place"], 0)}


def substory(schema: dict[str, Any], prompt: str) -> dict[str, Any]:
    n_frames = schema["properties"]["frames"]["minItems"]
    names = _enum(schema, "frames", "items", "characters", "items")
    verbs = ["stand", "walk", "hold", "talk", "sit", "look"]
    frames = [{"characters": [names[i % len(names)]], "verb": verbs[i % len(verbs)], "expression": "calm",
               "object": "book" if verbs[i % len(verbs)] == "hold" else "none"} for i in range(n_frames)]
    lines = [{"after_frame": min(i, n_frames - 1), "speaker": names[i % len(names)], "text": "We should hurry before dark."}
             for i in range(schema["properties"]["dialogue"]["minItems"])]
    place = re.search(r"Every frame happens at the (.+?)\. ", prompt)[1]
    n_qa = schema["properties"]["qa"]["minItems"]
    return {"frames": frames, "dialogue": lines, "qa": _qa(n_qa, names[0], "hurry before dark", place, 0)}


def verdict(body: dict[str, Any], prompt: str) -> dict[str, str]:
    """The story line that shares most words with the answer; about a third 'unsupported', as a function
    of the request (as a temperature-0 server is), so a resume replaying the cache counts the same."""
    story = prompt.split("Story text:\n", 1)[1].split("\n\nQuestion:", 1)[0]
    answer = prompt.split("Proposed answer: ", 1)[1].split("\n", 1)[0]
    words = set(re.findall(r"[a-z]+", answer.lower()))
    best = max(story.splitlines(), key=lambda line: len(words & set(re.findall(r"[a-z]+", line.lower()))))
    digest = hashlib.sha256(json.dumps(body["messages"], sort_keys=True).encode()).digest()
    return {"evidence": best, "verdict": "unsupported" if digest[0] % 3 == 0 else "supported"}


class Screenwriter:
    """Responder of a FakeServer. `spoil(title, reply, body)` may change the reply of a level (by schema
    title: movie_outline, chapter_expansion, substory_frames, qa_verdict); with `first_turn_only`, the
    repair turn gets the good reply."""

    def __init__(self, spoil: Callable[[str, dict[str, Any], dict[str, Any]], Any] | None = None,
                 first_turn_only: bool = False):
        self.spoil = spoil
        self.first_turn_only = first_turn_only

    def __call__(self, body: dict[str, Any]) -> str:
        title = title_of(body)
        schema = body["response_format"]["json_schema"]["schema"]
        prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
        reply = {"movie_outline": lambda: outline(schema, prompt), "chapter_expansion": lambda: chapter(schema),
                 "substory_frames": lambda: substory(schema, prompt), "qa_verdict": lambda: verdict(body, prompt)}[title]()
        if self.spoil is not None and not (self.first_turn_only and is_repair(body)):
            spoiled = self.spoil(title, reply, body)
            if isinstance(spoiled, str):
                return spoiled
        return json.dumps(reply)
