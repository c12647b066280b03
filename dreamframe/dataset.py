"""The dataset folder: the contract between generation and training, and what users share.

    OUT/manifest.json                 format + version, counts, resolved config, provenance
    OUT/config.yaml                   the resolved generation config (checked on resume)
    OUT/movies/<movie_id>.json        one `Movie`; written LAST, so its presence marks a finished movie
    OUT/style/<movie_id>.*            learned style embedding or procedural style parameters
    OUT/frames/<movie_id>/<i:05d>.jpg keyframes: the story's, then the action twins' (Movie.twin_frames)
    OUT/videos/<movie_id>.mp4         the keyframes as a video (optional)
    OUT/qa/<split>-00000-of-00001.parquet   one row per QA pair: its clip's `frame_paths` in story order, the
                                      `frame_order` they are handed in (`reversed`: a temporal twin), the
                                      `pair_id` its minimal-pair twin shares (null: unpaired)
    OUT/.writers/                     lock, per-movie claims and failure records (dreamframe.claims)

Several processes may write one folder at once (plain duplicates, shards, the job array's prepare
step): each movie is claimed before it is rendered, the config and the manifest are written under the
folder lock, and a movie counts as finished only when its JSON and all its files are on disk.
`check_dataset(root)` is the cheap data check any consumer can run first.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

from PIL import Image

from dreamframe.atomic import atomic_write_bytes, atomic_write_text, naming_write_errors
from dreamframe.claims import STATE_DIR, Claims, folder_lock, remove_dead_temps, temp_name
from dreamframe.config import config_diff
from dreamframe.dataset_card import card_entries, write_card
from dreamframe.frames import SamplingRule, recorded_rule
from dreamframe.schema import Movie, SchemaError, load_movie, qa_arrow_schema

FORMAT_NAME = "dreamframe-dataset"
FORMAT_VERSION = "1.0"
SPLITS = ("train", "test")
_OWN_ENTRIES = {"manifest.json", "config.yaml", "movies", "frames", "style", "qa", "videos", *card_entries(SPLITS)}
_PROVENANCE_PACKAGES = ("dreamframe", "numpy", "pillow", "pydantic", "pyarrow", "av", "torch",
                        "transformers", "diffusers")


class DatasetError(RuntimeError):
    """A dataset folder that cannot be used as asked; the message names the path and what is wrong."""


def frame_name(index: int) -> str:
    return f"{index:05d}.jpg"


def package_versions(names: Iterable[str] = _PROVENANCE_PACKAGES) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


class DatasetFolder:
    """Reader and writer of one dataset folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    # -- layout ---------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @property
    def config_path(self) -> Path:
        return self.root / "config.yaml"

    def movie_path(self, movie_id: str) -> Path:
        return self.root / "movies" / f"{movie_id}.json"

    def frames_dir(self, movie_id: str) -> Path:
        return self.root / "frames" / movie_id

    def video_path(self, movie_id: str) -> Path:
        return self.root / "videos" / f"{movie_id}.mp4"

    def style_dir(self) -> Path:
        return self.root / "style"

    def qa_path(self, split: str) -> Path:
        return self.root / "qa" / f"{split}-00000-of-00001.parquet"

    def failure_path(self, movie_id: str) -> Path:
        return self.root / STATE_DIR / "failed" / f"{movie_id}.txt"

    @cached_property
    def expects_video(self) -> bool:
        """Does the folder's config ask for a video per movie (render.video_fps > 0)?"""
        import yaml

        if not self.config_path.exists():
            return False
        cfg = yaml.safe_load(self.config_path.read_text(encoding="utf-8")) or {}
        return float((cfg.get("render") or {}).get("video_fps") or 0) > 0

    # -- writing --------------------------------------------------------------------------------
    def prepare(self, resolved_config: Mapping[str, Any], ignore: Iterable[str] = ()) -> list[str]:
        """Create the folder, or check that an existing one was made with the same config.

        Returns the ids of the finished movies. Raises before writing anything when the config differs,
        the folder is not a DreamFrame dataset (or holds movies but no config), or a movie JSON is corrupt.
        """
        import yaml

        if self.root.exists() and not self.config_path.exists():
            foreign = sorted(p.name for p in self.root.iterdir()
                             if p.name not in _OWN_ENTRIES and not p.name.startswith("."))
            if foreign:
                raise DatasetError(f"{self.root}: folder holds {foreign[:3]}, is not a DreamFrame dataset; "
                                   "use an empty or new --out")
        self.root.mkdir(parents=True, exist_ok=True)
        with folder_lock(self.root):  # two writers creating one folder agree on one config
            if self.config_path.exists():
                old = yaml.safe_load(self.config_path.read_text(encoding="utf-8")) or {}
                diff = config_diff(old, dict(resolved_config), ignore)
                if diff:
                    raise DatasetError(
                        f"{self.root}: folder was made with a different config ({'; '.join(diff)}). "
                        "Use a new --out, or the same config to resume."
                    )
            else:
                _remove_files(self.root, f".{self.config_path.name}.*.tmp")
                made = self.movie_json_ids()
                if made:
                    raise DatasetError(
                        f"{self.root}: holds {len(made)} movie(s) but no config.yaml, so the config that made "
                        "them is unknown. Restore config.yaml (manifest.json keeps it under 'config'), "
                        "or use a new --out.")
                atomic_write_text(self.config_path, yaml.safe_dump(dict(resolved_config), sort_keys=False))
            for sub in ("movies", "frames", "style", "qa"):
                (self.root / sub).mkdir(exist_ok=True)
        done = self.finished_movie_ids()
        remove_dead_temps(self.root / "frames")
        return done

    def movie_json_ids(self) -> list[str]:
        movies = self.root / "movies"
        return sorted(p.stem for p in movies.glob("*.json")) if movies.is_dir() else []

    def _load_if_present(self, movie_id: str) -> Movie | None:
        """The movie, or None when its JSON vanished meanwhile (a writer is redoing it)."""
        try:
            return self.load_movie(movie_id)
        except SchemaError:
            if not self.movie_path(movie_id).exists():
                return None
            raise

    def movie_problems(self, movie: Movie, video: bool | None = None) -> list[str]:
        """What is missing on disk for `movie` to be finished (file listing only: cheap). Empty: finished."""
        frames = self.frames_dir(movie.id)
        try:
            names = set(os.listdir(frames))
        except OSError:
            names = set()
        expected = [frame_name(i) for i in range(movie.num_keyframes)]
        missing = [n for n in expected if n not in names]
        problems = []
        if missing:
            problems.append(f"{frames / missing[0]}: missing ({len(missing)} of {movie.num_keyframes} frames absent)")
        if extra := sorted(n for n in names - set(expected) if not n.startswith(".")):
            problems.append(f"{frames / extra[0]}: not a frame of {movie.id} ({len(extra)} extra file(s))")
        if not movie.qa:
            problems.append(f"{self.movie_path(movie.id)}: no QA pairs")
        video_path = self.video_path(movie.id)
        if (self.expects_video if video is None else video) and not video_path.is_file():
            problems.append(f"{video_path}: missing (render.video_fps > 0)")
        return problems

    def scan(self) -> tuple[list[Movie], dict[str, str]]:
        """(finished movies, {movie id: first problem} for movie JSONs whose files are incomplete)."""
        finished, incomplete = [], {}
        for movie_id in self.movie_json_ids():
            movie = self._load_if_present(movie_id)  # a corrupt JSON raises SchemaError naming the file
            if movie is None:
                continue
            problems = self.movie_problems(movie)
            if problems:
                incomplete[movie_id] = problems[0]
            else:
                finished.append(movie)
        return finished, incomplete

    def is_finished(self, movie_id: str) -> bool:
        movie = self._load_if_present(movie_id) if self.movie_path(movie_id).exists() else None
        return movie is not None and not self.movie_problems(movie)

    def finished_movie_ids(self) -> list[str]:
        """Movies whose JSON is valid and whose every file is on disk: checked, never counted."""
        return [m.id for m in self.scan()[0]]

    def write_movie(self, movie: Movie, frames: Iterable[Image.Image], style_files: Mapping[str, bytes] = {},
                    jpeg_quality: int = 90, video_fps: float | None = None) -> None:
        """Write frames, style and video, check them on disk, then the movie JSON last.

        The caller holds the movie's claim (dreamframe.claims), so no other writer touches these files;
        a kill at any point leaves no movie JSON, and the movie is written again on the next run."""
        self.movie_path(movie.id).unlink(missing_ok=True)  # an incomplete movie being redone
        for sub in ("movies", "style", "videos"):  # temp files a killed writer of this movie left
            _remove_files(self.root / sub, f".{movie.id}.*.tmp*")
        final = self.frames_dir(movie.id)
        remove_dead_temps(final.parent, movie.id, claimed=True)
        tmp = final.parent / temp_name(movie.id)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        images = []
        count = 0
        for count, img in enumerate(frames, start=1):
            with naming_write_errors(tmp / frame_name(count - 1)):  # a full disk: one error naming the frame
                img.save(tmp / frame_name(count - 1), quality=jpeg_quality)
            if video_fps and count <= movie.num_frames:  # the video is the story; action twins' frames stay out
                images.append(img)
        if count != movie.num_keyframes:
            raise DatasetError(f"{movie.id}: renderer gave {count} frames, movie has {movie.num_keyframes}")
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        for name, data in style_files.items():
            atomic_write_bytes(self.style_dir() / name, data)
        if video_fps:
            from dreamframe.video import encode_video

            with naming_write_errors(self.video_path(movie.id)):
                encode_video(images, self.video_path(movie.id), fps=video_fps)
        problems = self.movie_problems(movie, video=bool(video_fps))
        if problems:
            raise DatasetError(f"{movie.id}: files incomplete after writing: {'; '.join(problems)}")
        atomic_write_text(self.movie_path(movie.id), movie.to_json())

    def record_failure(self, movie_id: str, text: str) -> None:
        """Keep why a movie failed until it is written, so every manifest lists it, whoever writes it."""
        atomic_write_text(self.failure_path(movie_id), text)

    def clear_failure(self, movie_id: str) -> None:
        self.failure_path(movie_id).unlink(missing_ok=True)

    def failures(self, finished: Iterable[str] = ()) -> dict[str, str]:
        """{movie id: first line of why it failed} for failed movies not finished since."""
        folder = self.failure_path("x").parent
        done = set(finished)
        paths = sorted(folder.glob("*.txt")) if folder.is_dir() else []
        out = {}
        for p in paths:
            if p.stem not in done:
                try:
                    out[p.stem] = (p.read_text(encoding="utf-8").splitlines() or [""])[0]
                except FileNotFoundError:  # written meanwhile
                    continue
        return out

    def finalize(self, resolved_config: Mapping[str, Any],
                 extra: Callable[[list[str]], Mapping[str, Any]] = lambda ids: {}) -> dict[str, Any]:
        """Build the QA tables and the manifest from every finished movie, under the folder lock, so the
        last writer to finish leaves the manifest of the whole folder. `extra(finished ids)` adds keys."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        with folder_lock(self.root):
            _remove_files(self.root / "qa", ".*.tmp")  # left by a writer killed here; the lock is ours now
            for name in (self.manifest_path.name, *card_entries(SPLITS)):
                _remove_files(self.root, f".{name}.*.tmp")
            movies = self.scan()[0]
            ids = [m.id for m in movies]
            rows: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
            for movie in movies:
                for qa in movie.qa:
                    rows[movie.split].append(qa_row(movie, qa))
            for split, split_rows in rows.items():
                table = pa.Table.from_pylist(split_rows, schema=qa_arrow_schema())
                buf = pa.BufferOutputStream()
                pq.write_table(table, buf, compression="zstd")
                atomic_write_bytes(self.qa_path(split), buf.getvalue().to_pybytes())
            manifest = {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "counts": {
                    "movies": len(movies),
                    "frames": sum(m.num_keyframes for m in movies),
                    "qa": sum(len(m.qa) for m in movies),
                    "movies_by_split": dict(Counter(m.split for m in movies)),
                    "qa_by_split": {s: len(r) for s, r in rows.items()},
                    "qa_by_type": dict(sorted(Counter(q.qa_type for m in movies for q in m.qa).items())),
                },
                "sources": [json.loads(s) for s in sorted({json.dumps(m.source, sort_keys=True) for m in movies})],
                "config": dict(resolved_config),
                "packages": package_versions(),
                "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "failures": self.failures(ids),
                "in_progress": Claims(self.root).sweep(),
                **extra(ids),
            }
            atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2) + "\n")
            write_card(self, manifest, SPLITS)
        return manifest

    # -- reading --------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        if not self.manifest_path.exists():
            raise DatasetError(f"{self.root}: no manifest.json - not a finished DreamFrame dataset")
        data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT_NAME:
            raise DatasetError(f"{self.manifest_path}: format is {data.get('format')!r}, expected {FORMAT_NAME!r}")
        return data

    def frame_rule(self) -> SamplingRule | None:
        """The frame sampling rule this dataset's questions were made for (None: none recorded) - the one
        reader of it. Canonical: the resolved config's `frame_sampling` (manifest "config", or config.yaml
        before the manifest is written); folders written before it was canonical also kept a top-level copy."""
        import yaml

        if self.manifest_path.exists():
            return recorded_rule(self.manifest(), str(self.manifest_path))
        if self.config_path.exists():
            return recorded_rule({"config": yaml.safe_load(self.config_path.read_text(encoding="utf-8")) or {}},
                                 str(self.config_path))
        return None

    def load_movie(self, movie_id: str) -> Movie:
        return load_movie(self.movie_path(movie_id))

    def movies(self, split: str | None = None) -> list[Movie]:
        return [m for m in self.scan()[0] if split is None or m.split == split]

    def frame_paths(self, movie_id: str, start: int = 0, end: int | None = None) -> list[Path]:
        """Absolute paths of frames [start, end) of a movie."""
        files = sorted(self.frames_dir(movie_id).glob("*.jpg"))
        return files[start:end]

    def qa_files(self, split: str) -> list[str]:
        path = self.qa_path(split)
        if not path.exists():
            raise DatasetError(f"{path}: no QA table for split {split!r}")
        return [str(path)]

    def load_qa(self, split: str) -> list[dict[str, Any]]:
        """The QA rows of a split, read with pyarrow (`datasets.load_dataset("parquet", data_files=...)`
        reads the same files as a Dataset, but builds a cache and converts rows one by one: minutes on
        100k rows of a busy machine, against a second here)."""
        import pyarrow.parquet as pq

        return [row for f in self.qa_files(split) for row in pq.read_table(f).to_pylist()]


def _remove_files(folder: Path, pattern: str) -> None:
    for path in folder.glob(pattern):
        path.unlink(missing_ok=True)


def qa_row(movie: Movie, qa) -> dict[str, Any]:
    return {
        "id": qa.id,
        "movie_id": movie.id,
        "split": movie.split,
        "question": qa.question,
        "answer": qa.answer,
        "options": list(qa.options),
        "closed": qa.closed,
        "qa_type": qa.qa_type,
        "level": qa.level,
        "frame_start": qa.frame_start,
        "frame_end": qa.frame_end,
        "frame_paths": [f"frames/{movie.id}/{frame_name(i)}" for i in qa.frame_indices],
        "frame_order": qa.frame_order,
        "pair_id": qa.pair_id,
        "genre": movie.genre,
        "style_keyword": movie.style_keyword,
    }


__all__ = ["DatasetFolder", "DatasetError", "SchemaError", "FORMAT_NAME", "FORMAT_VERSION", "qa_row", "frame_name"]
