"""The paper's closed vocabularies (DreamFrame, Stage 1), shared by every writer and checker."""

from __future__ import annotations

# The only actions a frame may show (Level 3 of story expansion).
VERBS: tuple[str, ...] = ("stand", "sit", "look", "talk", "hold", "squat", "walk", "hug")
VERB_ING: dict[str, str] = {
    "stand": "standing", "sit": "sitting", "look": "looking", "talk": "talking",
    "hold": "holding", "squat": "squatting", "walk": "walking", "hug": "hugging",
}
EXPRESSIONS: tuple[str, ...] = ("happy", "sad", "angry", "surprised", "calm", "scared")

# Genre mix of the paper's data (percent), used to draw a movie's genre.
GENRE_MIX: dict[str, float] = {
    "drama": 25.9, "comedy": 13.0, "romance": 9.7, "anime": 9.7, "adventure": 6.4,
    "family": 6.4, "historical": 5.4, "horror": 4.3, "mystery": 4.3, "crime": 3.2,
    "action": 3.2, "fantasy": 3.2, "disaster": 2.1, "sci-fi": 2.1, "biography": 1.1,
}

# One-word clothing colours; RGB values are what the procedural renderer paints. No orange: it sits
# between red and yellow, and the tiny demo model answered "orange" for most red and yellow figures.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (214, 39, 40), "blue": (31, 90, 220), "green": (44, 160, 44), "yellow": (240, 210, 30),
    "purple": (148, 60, 189), "black": (25, 25, 25), "white": (245, 245, 245),
}

QA_TYPES_PAPER: tuple[str, ...] = ("what", "why", "how", "where", "describe")
QA_TYPES_GROUNDED: tuple[str, ...] = ("colour", "count", "temporal", "location", "action", "identity")
QA_TYPES: tuple[str, ...] = QA_TYPES_PAPER + QA_TYPES_GROUNDED
QA_LEVELS: tuple[str, ...] = ("substory", "chapter", "movie")

FRAME_TEMPLATE = "generate an image in {style} style: At {place}, {somebody} is {doing}, {expression}"
