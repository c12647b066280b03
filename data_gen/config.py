"""Settings of `python -m data_gen.generate`. Defaults equal configs/data_gen/default.yaml (a test checks).

Counts and ranges are restricted types (jsonargparse.typing): a bad value is refused at parse time,
naming the option, before anything is written; `check_generate_config` adds the rules that tie options.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from jsonargparse.typing import (ClosedUnitInterval, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt,
                                 restricted_number_type, restricted_string_type)

from data_gen.metrics import MetricsConfig
from data_gen.render.diffusion import DiffusionConfig
from data_gen.style.textual_inversion import TextualInversionConfig
from data_gen.story.llm_config import PlotConfig
from data_gen.story.writers import WRITERS
from dreamframe.frames import SamplingRule
from dreamframe.llm.config import LLMConfig
from dreamframe.registry import RegistryError
from dreamframe.vocab import QA_TYPES

AtLeastTwo = restricted_number_type("AtLeastTwo", int, (">=", 2))
FrameSize = restricted_number_type("FrameSize", int, (">=", 16))
JpegQuality = restricted_number_type("JpegQuality", int, [(">=", 1), ("<=", 100)])
QAType = Literal[QA_TYPES]  # type: ignore[valid-type]
MAX_PREFIX = 64
"""Longest --movie_prefix: it starts every file name of a movie (`.<id>.tmp-<host>-<pid>` the longest, and a
file system allows 255 bytes a name)."""
MoviePrefix = restricted_string_type("MoviePrefix", rf"^[A-Za-z0-9_-]{{0,{MAX_PREFIX}}}$")


@dataclass
class StoryConfig:
    """Stage 1: who writes the movie, and how big it is (l x m x n frames)."""

    backend: str = "procedural"
    """Story writer: `procedural` (seeded, offline) or `llm` (the paper's story expansion; see the `llm` and `plot`
    sections); the names registered in data_gen/story/writers.py."""
    chapters: PositiveInt = 3
    """Chapters per movie (the paper's l = 11)."""
    substories: PositiveInt = 3
    """Sub-stories per chapter (m = 11)."""
    frames: PositiveInt = 4
    """Frames per sub-story (n = 11)."""
    locations: PositiveInt = 6
    """Locations per movie (the paper asks for at least 12)."""
    character_weights: list[NonNegativeFloat] = field(default_factory=lambda: [0.1, 0.2, 0.7])
    """Probability of a movie having 1, 2 or 3 characters."""
    dialogue_lines: NonNegativeInt = 2
    """Dialogue lines per sub-story (the paper: 6)."""


@dataclass
class QAConfig:
    """Grounded QA computed from the structured movie."""

    per_substory: NonNegativeInt = 4
    """QA pairs drawn per sub-story (the paper: 2)."""
    per_chapter: NonNegativeInt = 2
    """QA pairs drawn per chapter (the paper: 1)."""
    per_movie: PositiveInt = 2
    """QA pairs about the whole movie (a detailed description is always one)."""
    num_options: AtLeastTwo = 4
    """Answer choices offered for closed questions, at least 2 (fewer when fewer exist)."""
    types: list[QAType] | None = None
    """QA types asked (dreamframe.vocab.QA_TYPES); None asks every type."""
    minimal_pairs: bool = False
    """Follow each temporal and action question with its twin (same `pair_id`): the same frames in the opposite
    order with the answer flipped, or the same clip with the asked action redrawn as another option."""
    temporal_told_apart: bool = False
    """Temporal questions pair two events that differ in who or where (not only in a pose) when a chapter has
    such, so order can be learned before actions are."""
    temporal_form: Literal["before_after", "which_first"] = "before_after"
    """How a temporal question asks for order: `before_after` - does event A happen before or after event B
    (the answer depends on which event the question names first as well as on the clip); `which_first` -
    which of two places is shown first (the answer is read from the clip's opening frames: TempCompass's and
    MVBench's "what happens first" shape). Both come with reversed twins under minimal_pairs."""
    action_form: Literal["which_of_these", "at_start"] = "which_of_these"
    """How an action question asks: `which_of_these` - which of the options a person does anywhere in the clip
    (the clip's other actions are never offered); `at_start` - what a person does in the clip's first frame
    (the pose is read where the clip begins). Options are the answer and actions the clip never shows."""
    clip_frames: PositiveInt | None = None
    """Frames a model is handed per clip (its model.num_frames), picked with `frame_sampling`: temporal and action
    questions then name only events those frames show, and `data_gen.check` proves it per question. None:
    every frame of a span is shown."""


@dataclass
class StyleConfig:
    """Stage 2: one style per movie."""

    backend: Literal["procedural", "textual_inversion"] = "procedural"
    """`procedural`: palette, texture and outline derived from the style keyword; `textual_inversion`:
    learn the keyword's embedding with diffusers (needs render.backend diffusion)."""
    textual_inversion: TextualInversionConfig = field(default_factory=TextualInversionConfig)


@dataclass
class RenderConfig:
    """Stage 3: keyframes."""

    backend: Literal["procedural", "diffusion"] = "procedural"
    """`procedural`: Pillow drawing of each frame's structured description; `diffusion`: diffusers pipeline."""
    size: FrameSize = 336
    """Square frame size in pixels (at least 16)."""
    jpeg_quality: JpegQuality = 90
    """JPEG quality of the saved keyframes (1-100)."""
    figure_scale: PositiveFloat = 1.0
    """Procedural renderer: figure size relative to a standing figure half the frame high. Raise it when
    the model sees small frames, so clothing colour, count and pose survive the resize."""
    figure_scale_range: list[PositiveFloat] | None = None
    """Procedural renderer: [low, high], or bands [low1, high1, low2, high2, ...] in ascending order: each movie
    draws its figure scale uniformly from their union (seeded by the movie; recorded in
    style/<movie_id>.layout.json), so a skill is learned on many figure sizes - and a gap between two bands
    holds sizes no training movie has, for a shifted set. None: every movie uses figure_scale."""
    limb_scale: PositiveFloat = 1.0
    """Procedural renderer: arm and leg thickness relative to the figure, so a pose (the answer of action
    questions) survives the resize to a small model input."""
    figure_offset_range: list[NonNegativeFloat] = field(default_factory=lambda: [0.0, 0.0])
    """Procedural renderer: [low, high]: each movie shifts its figures sideways by a fraction of the frame
    width drawn from it, to the left or right at random (recorded with the scale)."""
    figure_spacing_range: list[PositiveFloat] | None = None
    """Procedural renderer: [low, high]: each movie draws the gap between side-by-side figures as a multiple
    of the default gap (recorded with the scale), so where figures stand varies with more than how many
    there are (docs/training.md run SP). None: the default gap (1.0)."""
    video_fps: NonNegativeFloat = 2.0
    """Also write videos/<movie_id>.mp4 at this frame rate; 0 disables."""
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)


@dataclass
class GenerateConfig:
    """Write a DreamFrame dataset folder: structured movies, style, keyframes, QA tables."""

    out: str | None = None
    """Output dataset folder (required)."""
    num_movies: NonNegativeInt = 24
    """Number of movies to write (0: only create or check the folder and rewrite the manifest)."""
    seed: int = 0
    """Base seed: movie i is a pure function of (seed, i)."""
    workers: PositiveInt = 2
    """Parallel worker processes."""
    shard_index: NonNegativeInt = 0
    """Write only movies with index % num_shards == shard_index (for job arrays)."""
    num_shards: PositiveInt = 1
    """Number of shards the movies are split into."""
    test_fraction: ClosedUnitInterval = 0.2
    """Fraction of movies held out as the test split (evenly spaced by index)."""
    movie_prefix: MoviePrefix = "m"
    """Movie ids are <prefix><index:05d> (letters, digits, _ and -; at most 64 characters)."""
    frame_sampling: SamplingRule = SamplingRule.segment_centre
    """Frame sampling rule recorded for consumers (export, training, eval)."""
    story: StoryConfig = field(default_factory=StoryConfig)
    qa: QAConfig = field(default_factory=QAConfig)
    style: StyleConfig = field(default_factory=StyleConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    """The LLM used when story.backend is `llm` (llm.cache empty: <out>/llm_cache/shard-<i>-of-<k>.sqlite)."""
    plot: PlotConfig = field(default_factory=PlotConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)


def hash_seed(seed: int, index: int) -> int:
    """The seed of movie `index`'s random draws (grounded QA, LLM requests): a pure function of (seed, index)."""
    return (seed * 1_000_003 + index) % (2**32)


# Keys that may change between runs into the same folder without changing any movie.
RUNTIME_KEYS = ("out", "num_movies", "workers", "shard_index", "num_shards",
                "llm.base_url", "llm.api_key_env", "llm.max_concurrency", "llm.max_retries", "llm.backoff",
                "llm.timeout", "llm.max_reply_bytes", "llm.cache", "llm.price", "llm.batch_size", "llm.device",
                "plot.movie_concurrency")


def check_generate_config(cfg: GenerateConfig) -> None:
    """The rules that tie options together; raises ValueError naming the options, before anything is written."""
    if not cfg.out:
        raise ValueError("--out is required: the dataset folder to write")
    if not cfg.shard_index < cfg.num_shards:
        raise ValueError(f"--shard_index must be in [0, --num_shards={cfg.num_shards}), got {cfg.shard_index}")
    try:
        WRITERS.check(cfg.story.backend)
    except RegistryError as err:
        raise ValueError(f"--{err}") from None
    weights = cfg.story.character_weights
    if not 1 <= len(weights) <= 3 or sum(weights) <= 0:
        raise ValueError(f"--story.character_weights: 1 to 3 weights (for 1, 2, 3 characters) with a positive sum, "
                         f"got {weights}")
    for name in ("figure_offset_range", "figure_spacing_range"):
        value = getattr(cfg.render, name)
        if value is not None and (len(value) != 2 or value[0] > value[1]):
            raise ValueError(f"--render.{name}: [low, high] with low <= high, got {value}")
    bands = cfg.render.figure_scale_range
    if bands is not None and (not bands or len(bands) % 2 or bands != sorted(bands)):
        raise ValueError(f"--render.figure_scale_range: [low, high] or bands [low1, high1, low2, high2, ...] in "
                         f"ascending order, got {bands}")
    if cfg.style.backend == "textual_inversion" and cfg.render.backend != "diffusion":
        raise ValueError("style.backend textual_inversion needs render.backend diffusion "
                         "(the token is learned in its pipeline)")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", cfg.llm.api_key_env):  # never echo it: it may be the key
        raise ValueError("--llm.api_key_env must be the NAME of the environment variable holding the API key "
                         "(letters, digits, _), not the key itself")
