"""Write a DreamFrame dataset folder: plot (Stage 1) -> style (Stage 2) -> keyframes (Stage 3) -> QA.

    python -m data_gen.generate --out runs/data                       # embedded default, offline
    python -m data_gen.generate --config configs/data_gen/tiny.yaml --out runs/tiny --num-movies 4
    python -m data_gen.generate --out runs/data --shard-index 0 --num-shards 8   # one job of an array

Movie i depends only on (config, seed, i), so the run is sharded by movie, parallel, deterministic
and resumable: a rerun skips finished movies, and a killed worker never leaves a half-written one.
Any number of these commands may write one folder at once (plain duplicates, shards, a job array's
prepare step with --num-movies 0): each movie is claimed before it is rendered (data_gen.schedule).
"""

from __future__ import annotations

import json
import math
import sys
import time
import traceback
from collections.abc import Sequence
from functools import partial
from typing import Any

from data_gen.config import RUNTIME_KEYS, GenerateConfig, check_generate_config, hash_seed
from data_gen.metrics import gather_consistency
from data_gen.story.writers import WRITERS
from dreamframe.atomic import WriteError, is_disk_error
from dreamframe.config import from_dict, parse_config, to_dict
from dreamframe.dataset import DatasetError, DatasetFolder
from dreamframe.llm.secrets import read_api_key, redact
from dreamframe.schema import Movie, SchemaError


def movie_id(cfg: GenerateConfig, index: int) -> str:
    return f"{cfg.movie_prefix}{index:05d}"


def is_test(index: int, fraction: float) -> bool:
    """Exactly floor(N * fraction) of the first N movies are test movies, evenly spaced, stable as N grows."""
    return math.floor((index + 1) * fraction) > math.floor(index * fraction)


def write_story(cfg: GenerateConfig, index: int) -> Movie:
    """Stage 1 (the story.backend's writer) plus grounded QA and the split."""
    from data_gen.qa import make_qa

    movie = WRITERS.load(cfg.story.backend)(cfg).story(index, movie_id(cfg, index))
    movie.qa = movie.qa + make_qa(movie, cfg.qa, seed=hash_seed(cfg.seed, index), rule=cfg.frame_sampling)
    movie.split = "test" if is_test(index, cfg.test_fraction) else "train"
    return Movie.model_validate(movie.model_dump())


def style_and_frames(cfg: GenerateConfig, movie: Movie):
    """Stages 2 and 3: the movie's fixed style, then its keyframes (an iterator of PIL images)."""
    if cfg.render.backend == "diffusion":
        from data_gen.render.diffusion import diffusion_style_and_frames

        files, frames = diffusion_style_and_frames(cfg, movie)
    else:
        from data_gen.render.procedural import ProceduralRenderer, figure_layout
        from data_gen.style.procedural import style_from_keyword

        style = style_from_keyword(movie.style_keyword)
        r = cfg.render
        layout = figure_layout(cfg.seed, movie.id, r)
        files = {f"{movie.id}.json": style.to_json().encode(),
                 f"{movie.id}.layout.json": (json.dumps(layout) + "\n").encode()}
        frames = ProceduralRenderer(r.size, **layout, limb_scale=r.limb_scale).render(movie, style)
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
    return movie.id, movie.num_keyframes, len(movie.qa)


def _safe_make_movie(cfg_data: dict[str, Any], index: int) -> tuple[int, tuple | None, str | None]:
    try:
        return index, make_movie(cfg_data, index), None
    except Exception as err:  # one bad movie never stops the run; it is reported and retried on rerun
        if is_disk_error(err):  # one line naming the file; every other movie would fail the same way
            return index, None, f"{type(err).__name__}: {err}"
        secret = read_api_key(cfg_data["llm"]["api_key_env"])
        return index, None, redact(f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=3)}", secret)


def generate(cfg: GenerateConfig, progress: bool = True) -> dict[str, Any]:
    """Run the whole generation; returns the manifest with `last_run.failures`: this run's movies that
    failed here or in another writer meanwhile."""
    from data_gen.schedule import write_claimed

    try:
        check_generate_config(cfg)
    except ValueError as err:
        raise DatasetError(str(err)) from None
    folder = DatasetFolder(cfg.out)
    data = to_dict(cfg)
    done = set(folder.prepare(data, ignore=RUNTIME_KEYS))
    start = time.perf_counter()
    todo = [(i, movie_id(cfg, i)) for i in range(cfg.shard_index, cfg.num_movies, cfg.num_shards)
            if movie_id(cfg, i) not in done]
    writer = WRITERS.load(cfg.story.backend)(cfg)
    stage = writer.batch_stage(progress) if todo else None  # e.g. the LLM writes a batch of stories at once
    capacity = max(2 * cfg.workers, writer.batch_size if stage else 0)
    out = write_claimed(folder, todo, partial(_safe_make_movie, data), cfg.workers, stage, capacity, progress)
    failures = dict(sorted({**out.failures, **out.failed_elsewhere}.items()))  # texts redacted where made

    def extra(finished: list[str]) -> dict[str, Any]:
        more: dict[str, Any] = {
            "seed": cfg.seed,
            "backends": {"story": cfg.story.backend, "style": cfg.style.backend, "render": cfg.render.backend},
            "last_run": {"shard": f"{cfg.shard_index}/{cfg.num_shards}", "written": len(out.written),
                         "skipped_finished": len(done), "finished_by_other_writers": len(out.finished_elsewhere),
                         "failures": {m: e.splitlines()[0] for m, e in failures.items()},
                         "seconds": round(time.perf_counter() - start, 2)},
            "consistency": gather_consistency(cfg.metrics, folder.style_dir(), finished),
        }
        return {**more, **writer.manifest(finished)}

    manifest = folder.finalize(data, extra)
    for mid, err in failures.items():
        print(f"movie {mid} failed: {err}", file=sys.stderr)
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(GenerateConfig, argv, prog="python -m data_gen.generate", description=__doc__)
    try:
        manifest = generate(cfg)
    except (DatasetError, SchemaError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except WriteError as err:  # a full disk: named, no traceback; the finished movies stay and a rerun resumes
        print(f"error: {err}", file=sys.stderr)
        return 1
    c, run = manifest["counts"], manifest["last_run"]
    print(f"wrote {cfg.out}: {c['movies']} movies, {c['frames']} frames, {c['qa']} QA pairs "
          f"(train {c['qa_by_split'].get('train', 0)}, test {c['qa_by_split'].get('test', 0)}); "
          f"this run rendered {run['written']}, other writers {run['finished_by_other_writers']}"
          + (f"; {len(run['failures'])} movies failed" if run["failures"] else ""))
    return 1 if run["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
