"""Settings of `python -m data_gen.generate`. Defaults equal configs/data_gen/default.yaml (a test checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from data_gen.metrics import MetricsConfig
from data_gen.render.diffusion import DiffusionConfig
from data_gen.style.textual_inversion import TextualInversionConfig
from data_gen.story.llm_config import PlotConfig
from dreamframe.frames import SamplingRule
from dreamframe.llm.config import LLMConfig


@dataclass
class StoryConfig:
    """Stage 1: who writes the movie, and how big it is (l x m x n frames)."""

    backend: Literal["procedural", "llm"] = "procedural"
    """Story writer: `procedural` (seeded, offline) or `llm` (the paper's story expansion; see the `llm` and `plot` sections)."""
    chapters: int = 3
    """Chapters per movie (the paper's l = 11)."""
    substories: int = 3
    """Sub-stories per chapter (m = 11)."""
    frames: int = 4
    """Frames per sub-story (n = 11)."""
    locations: int = 6
    """Locations per movie (the paper asks for at least 12)."""
    character_weights: list[float] = field(default_factory=lambda: [0.1, 0.2, 0.7])
    """Probability of a movie having 1, 2 or 3 characters."""
    dialogue_lines: int = 2
    """Dialogue lines per sub-story (the paper: 6)."""


@dataclass
class QAConfig:
    """Grounded QA computed from the structured movie."""

    per_substory: int = 4
    """QA pairs drawn per sub-story (the paper: 2)."""
    per_chapter: int = 2
    """QA pairs drawn per chapter (the paper: 1)."""
    per_movie: int = 2
    """QA pairs about the whole movie (a detailed description is always one)."""
    num_options: int = 4
    """Answer choices offered for closed questions (fewer when fewer exist)."""
    types: list[str] | None = None
    """QA types asked (see dreamframe.vocab.QA_TYPES); None asks every type."""


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
    size: int = 336
    """Square frame size in pixels."""
    jpeg_quality: int = 90
    """JPEG quality of the saved keyframes."""
    figure_scale: float = 1.0
    """Procedural renderer: figure size relative to a standing figure half the frame high. Raise it when
    the model sees small frames, so clothing colour, count and pose survive the resize."""
    video_fps: float = 2.0
    """Also write videos/<movie_id>.mp4 at this frame rate; 0 disables."""
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)


@dataclass
class GenerateConfig:
    """Write a DreamFrame dataset folder: structured movies, style, keyframes, QA tables."""

    out: str | None = None
    """Output dataset folder (required)."""
    num_movies: int = 24
    """Number of movies to write."""
    seed: int = 0
    """Base seed: movie i is a pure function of (seed, i)."""
    workers: int = 2
    """Parallel worker processes."""
    shard_index: int = 0
    """Write only movies with index % num_shards == shard_index (for job arrays)."""
    num_shards: int = 1
    """Number of shards the movies are split into."""
    test_fraction: float = 0.2
    """Fraction of movies held out as the test split (evenly spaced by index)."""
    movie_prefix: str = "m"
    """Movie ids are <prefix><index:05d>."""
    frame_sampling: SamplingRule = "segment_centre"
    """Frame sampling rule recorded for consumers (export, training, eval)."""
    story: StoryConfig = field(default_factory=StoryConfig)
    qa: QAConfig = field(default_factory=QAConfig)
    style: StyleConfig = field(default_factory=StyleConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    """The LLM used when story.backend is `llm` (llm.cache empty: <out>/llm_cache/shard-<i>-of-<k>.sqlite)."""
    plot: PlotConfig = field(default_factory=PlotConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)


# Keys that may change between runs into the same folder without changing any movie.
RUNTIME_KEYS = ("out", "num_movies", "workers", "shard_index", "num_shards",
                "llm.base_url", "llm.api_key_env", "llm.max_concurrency", "llm.max_retries", "llm.backoff",
                "llm.timeout", "llm.cache", "llm.price", "llm.batch_size", "llm.device", "plot.movie_concurrency")
