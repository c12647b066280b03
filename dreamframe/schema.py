"""The structured movie: the paper's three levels (chapters -> sub-stories -> frames) plus dialogue and QA.

Every stage writes or reads this schema; a movie JSON on disk is one `Movie`. Frames carry a global
index (0 .. l*m*n-1) and every QA pair names the half-open frame span [frame_start, frame_end) it is about.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dreamframe.vocab import EXPRESSIONS, QA_LEVELS, QA_TYPES, VERBS

SCHEMA_VERSION = "1.0"


class SchemaError(ValueError):
    """A movie that does not fit the schema; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Character(_Strict):
    name: str = Field(min_length=1)
    gender: Literal["man", "woman"]
    lookalike: str = Field(min_length=1, description="A well-known actor the character looks like.")
    colour: str = Field(pattern=r"^[a-z]+$", description="One-word clothing colour.")

    @property
    def phrase(self) -> str:
        """The paper's identity wording, carried verbatim into every frame description."""
        return f"a {self.gender} who looks like {self.lookalike} in {self.colour}"


class Frame(_Strict):
    index: int = Field(ge=0, description="Global frame index within the movie.")
    place: str = Field(min_length=1)
    characters: list[str] = Field(min_length=1, description="Names of the characters in view.")
    verb: Literal[VERBS]  # type: ignore[valid-type]
    target: str | None = Field(None, description="Held object, or the character looked at / hugged / talked to.")
    expression: Literal[EXPRESSIONS]  # type: ignore[valid-type]
    description: str = Field(min_length=1, description="Text-to-image prompt in the paper's frame template.")


class DialogueLine(_Strict):
    after_frame: int = Field(ge=0, description="The line is spoken between this frame and the next.")
    speaker: str
    text: str


class SubStory(_Strict):
    scene: str
    content: str
    reason: str | None = Field(None, description="Why the sub-story happens (answers why-questions).")
    frames: list[Frame] = Field(min_length=1)
    dialogue: list[DialogueLine] = []


class Chapter(_Strict):
    scene: list[str] = Field(min_length=1, max_length=3)
    content: str
    substories: list[SubStory] = Field(min_length=1)


class QAPair(_Strict):
    id: str
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    qa_type: Literal[QA_TYPES]  # type: ignore[valid-type]
    level: Literal[QA_LEVELS]  # type: ignore[valid-type]
    frame_start: int = Field(ge=0)
    frame_end: int = Field(ge=1, description="Exclusive end of the frame span.")
    options: list[str] = Field([], description="Answer choices for closed questions; empty when open-ended.")
    frames: list[int] = Field([], description="The clip's keyframe indices in story order when they are not the "
                              "span (an action twin swaps in its twin keyframes); empty: frame_start..frame_end-1.")
    frame_order: Literal["forward", "reversed"] = Field(
        "forward", description="Order the sampled frames are handed to the model (a temporal twin: reversed).")
    pair_id: str | None = Field(None, description="Shared by the two twins of a minimal pair; None: unpaired.")
    evidence: list[int] = Field([], description="Keyframes the clip handed to a model must hold for the question "
                                "to be answerable: a temporal question's two events in the order it names them, an "
                                "action question's frames of the asked action.")

    @property
    def closed(self) -> bool:
        return bool(self.options)

    @property
    def frame_indices(self) -> list[int]:
        """The clip's keyframes in story order: `frames`, or the span."""
        return list(self.frames) if self.frames else list(range(self.frame_start, self.frame_end))

    @model_validator(mode="after")
    def _answer_in_options(self) -> QAPair:
        if self.frame_end <= self.frame_start:
            raise ValueError(f"frame_end ({self.frame_end}) must exceed frame_start ({self.frame_start})")
        if self.options and self.answer not in self.options:
            raise ValueError(f"answer {self.answer!r} is not one of options {self.options}")
        return self


class Movie(_Strict):
    schema_version: str = SCHEMA_VERSION
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str
    genre: str
    overview: str
    tone: str = ""
    style_description: str
    style_keyword: str = Field(pattern=r"^[A-Za-z-]+$", description="ONE word naming the movie's style.")
    characters: list[Character] = Field(min_length=1, max_length=3)
    locations: list[str] = Field(min_length=1)
    chapters: list[Chapter] = Field(min_length=1)
    twin_frames: list[Frame] = Field([], description="Extra keyframes for action twins, indices after the story's "
                                     "frames: a story frame redrawn with another action, nothing else changed.")
    qa: list[QAPair] = []
    split: Literal["train", "test"] = "train"
    source: dict[str, str] = Field({}, description="Backend and model ids that wrote the movie.")

    @field_validator("locations")
    @classmethod
    def _short_locations(cls, v: list[str]) -> list[str]:
        for loc in v:
            if not 1 <= len(loc.split()) <= 2:
                raise ValueError(f"location {loc!r} must be one or two words")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Movie:
        names = {c.name for c in self.characters}
        for i, frame in enumerate(self.frames):
            if frame.index != i:
                raise ValueError(f"frame indices must run 0..N-1 in order; found {frame.index} at position {i}")
            unknown = set(frame.characters) - names
            if unknown:
                raise ValueError(f"frame {i} names unknown characters {sorted(unknown)}")
        n, total = self.num_frames, self.num_keyframes
        for k, frame in enumerate(self.twin_frames):
            if frame.index != n + k:
                raise ValueError(f"twin frame indices must run {n}..{total - 1} in order; found {frame.index}")
        for qa in self.qa:
            if qa.frame_end > n:
                raise ValueError(f"QA {qa.id} spans frames up to {qa.frame_end} but the movie has {n}")
            if bad := [i for i in [*qa.frames, *qa.evidence] if not 0 <= i < total]:
                raise ValueError(f"QA {qa.id} names keyframe {bad[0]} but the movie has {total}")
        return self

    @property
    def frames(self) -> list[Frame]:
        return [f for ch in self.chapters for sub in ch.substories for f in sub.frames]

    @property
    def num_frames(self) -> int:
        return sum(len(sub.frames) for ch in self.chapters for sub in ch.substories)

    @property
    def keyframes(self) -> list[Frame]:
        """Every drawn frame: the story's, then the action twins' (`twin_frames`)."""
        return self.frames + list(self.twin_frames)

    @property
    def num_keyframes(self) -> int:
        return self.num_frames + len(self.twin_frames)

    def character(self, name: str) -> Character:
        return next(c for c in self.characters if c.name == name)

    def spans(self) -> list[tuple[str, int, int]]:
        """(level, start, end) for every sub-story and chapter, in story order."""
        out, start = [], 0
        for ch in self.chapters:
            ch_start = start
            for sub in ch.substories:
                out.append(("substory", start, start + len(sub.frames)))
                start += len(sub.frames)
            out.append(("chapter", ch_start, start))
        return out

    def to_json(self) -> str:
        """Canonical, byte-stable serialisation."""
        return self.model_dump_json(indent=1) + "\n"


def _format_errors(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "<root>"
        parts.append(f"field {loc}: {e['msg']}")
    return "; ".join(parts)


def parse_movie(text: str, source: str | Path = "<string>") -> Movie:
    """Validate a movie JSON; errors name the source file and every offending field."""
    try:
        return Movie.model_validate_json(text)
    except ValidationError as err:
        raise SchemaError(f"{source}: invalid movie: {_format_errors(err)}") from None


def load_movie(path: str | Path) -> Movie:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SchemaError(f"{path}: cannot read movie: {err}") from None
    return parse_movie(text, path)


def qa_arrow_schema():
    """The pyarrow schema of the qa/<split>-*.parquet tables (rows from dreamframe.dataset.qa_row); the
    dataset writer and the dataset card both read it here."""
    import pyarrow as pa

    return pa.schema([
        ("id", pa.string()), ("movie_id", pa.string()), ("split", pa.string()),
        ("question", pa.string()), ("answer", pa.string()), ("options", pa.list_(pa.string())),
        ("closed", pa.bool_()), ("qa_type", pa.string()), ("level", pa.string()),
        ("frame_start", pa.int32()), ("frame_end", pa.int32()), ("frame_paths", pa.list_(pa.string())),
        ("frame_order", pa.string()), ("pair_id", pa.string()),
        ("genre", pa.string()), ("style_keyword", pa.string()),
    ])
