"""The story writers `story.backend` may name (Stage 1), and what a writer must offer.

Add a backend: write a class with the `StoryWriter` members (data_gen/story/procedural.py's
`ProceduralStoryWriter` is the smallest, data_gen/story/llm_run.py's `LLMStoryWriter` one with a
batch stage) and add one line below. data_gen.generate has no branch per backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from dreamframe.registry import Registry

if TYPE_CHECKING:  # annotations only: data_gen.config imports this module (to check story.backend) before --help
    from dreamframe.schema import Movie

BatchStage = Callable[[list[tuple[int, str]]], dict[str, str]]
"""[(movie index, movie id)] claimed for rendering -> {movie id: why it failed} of those it could not write."""


class StoryWriter(Protocol):
    """One story.backend. data_gen.generate makes it with `Writer(cfg: GenerateConfig)` once per run and once
    per worker process, so the constructor only keeps the config."""

    @property
    def batch_size(self) -> int:
        """Movies handed to `batch_stage` at once at most (0 when there is no batch stage)."""

    def batch_stage(self, progress: bool) -> BatchStage | None:
        """Run in the main process on each batch of claimed movies before they are rendered (e.g. many LLM
        requests at once), or None when `story` writes each movie by itself. Raise here (before any movie)
        on a bad config section."""

    def story(self, index: int, movie_id: str) -> Movie:
        """Movie `index`'s story, in a worker; data_gen.generate adds the grounded QA and the split."""

    def manifest(self, finished: list[str]) -> dict[str, Any]:
        """What the manifest records about the stories of the finished movies (merged into it)."""


WRITERS: Registry[type[StoryWriter]] = Registry("story writer", StoryWriter, option="story.backend")
WRITERS.add("procedural", "data_gen.story.procedural:ProceduralStoryWriter", declared_in=__file__)
WRITERS.add("llm", "data_gen.story.llm_run:LLMStoryWriter", declared_in=__file__)
