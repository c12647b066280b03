"""Export a dataset folder's QA pairs in the formats video-LVLM trainers read as they are.

    python -m data_gen.export --in runs/data --format llava --out runs/export/llava_train.json
    python -m data_gen.export --in runs/data --format llamafactory --out runs/export/dreamframe_train.json
    python -m data_gen.export --in runs/data --format sharegpt --split test --out runs/export/test.json

Every QA pair brings exactly its own clip: the `--num-frames` frames the shared sampler picks from the
pair's frames (rule from the manifest unless `--frame-sampling`), in its `frame_order` (a reversed
minimal-pair twin lists them last to first). Each record carries the pair's `pair_id` (null: unpaired). Paths are relative to the
output file's folder unless `--absolute-paths`.

- `llava` (LLaVA-NeXT / LLaVA-OneVision `llava/train/train.py`): {"id", "video", "frames",
  "conversations": [{"from": "human", "value": "<image>\\nQ"}, {"from": "gpt", "value": "A"}]}. LLaVA-NeXT
  marks video with the `<image>` token too, and reads `video` (joined to `--video_folder`) with decord,
  so each clip is written as its own mp4 under `<out stem>.clips/` at 1 frame per second: with the
  trainer's defaults (`--video_fps 1`, `--frames_upbound 0`), or `--frames_upbound N --force_sample True`
  with N = `--num-frames`, it reads exactly the clip's frames. Train with `--video_folder <the output
  file's folder>`. `frames` lists the same frames as images (read by DreamFrame's own `training.train`).
- `llamafactory` (LLaMA-Factory, `sharegpt` formatting with OpenAI-style tags): {"id", "messages":
  [{"role": "user", "content": "<video>Q"}, {"role": "assistant", "content": "A"}], "videos": [[frame
  paths]]}; a video is its list of frames.
- `sharegpt` (the ShareGPT layout): {"id", "conversations": [{"from": "human", "value": "<video>Q"},
  {"from": "gpt", ...}], "videos": [[frame paths]]}.
Both ShareGPT flavours also get their entry (named after the output file) in `dataset_info.json` beside
the output file, so LLaMA-Factory trains on them with `dataset_dir: <that folder>` and `dataset: <name>`
(its `media_dir` defaults to `dataset_dir`, where the relative frame paths resolve).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dreamframe.atomic import atomic_write_text
from dreamframe.config import parse_config
from dreamframe.dataset import DatasetError, DatasetFolder, frame_name
from dreamframe.frames import SamplingRule, handed_frames
from dreamframe.prompts import question_text
from dreamframe.schema import Movie, SchemaError

LLAVA_IMAGE_TOKEN = "<image>"
"""LLaVA-NeXT's DEFAULT_IMAGE_TOKEN (llava/constants.py), its visual placeholder for images and video alike."""
VIDEO_TOKEN = "<video>"
"""LLaMA-Factory's VIDEO_PLACEHOLDER (src/llamafactory/extras/constants.py)."""
CLIP_FPS = 1
"""Clips play at LLaVA-NeXT's default `video_fps`, so its decord reader keeps every frame."""
SHAREGPT_TAGS = {
    "llamafactory": {"messages": "messages", "role_tag": "role", "content_tag": "content",
                     "user_tag": "user", "assistant_tag": "assistant"},
    "sharegpt": {"messages": "conversations", "role_tag": "from", "content_tag": "value",
                 "user_tag": "human", "assistant_tag": "gpt"},
}


@dataclass
class ExportConfig:
    """Export QA pairs with their frames for LLaVA-NeXT, LLaMA-Factory or any ShareGPT reader."""

    input: str | None = None
    """Dataset folder to read (`--in`)."""
    out: str | None = None
    """Output JSON file."""
    format: Literal["llava", "llamafactory", "sharegpt"] = "llava"
    """`llava` for LLaVA-NeXT / LLaVA-OneVision, `llamafactory` for LLaMA-Factory, `sharegpt` for the ShareGPT layout."""
    split: Literal["train", "test", "all"] = "train"
    """Which movies to export."""
    num_frames: int = 8
    """Frames sampled per QA pair from its span."""
    frame_sampling: SamplingRule | None = None
    """Sampling rule; default: the one recorded in the dataset's manifest."""
    absolute_paths: bool = False
    """Write absolute paths instead of paths relative to the output file."""
    progress: bool = True
    """Show a progress bar."""


class Exporter:
    """Turns the movies of one dataset folder into records of one format."""

    def __init__(self, folder: DatasetFolder, cfg: ExportConfig, rule: SamplingRule):
        self.folder, self.cfg, self.rule = folder, cfg, rule
        self.out = Path(cfg.out).resolve()
        self.clips_dir = self.out.with_name(self.out.stem + ".clips")

    def rel(self, path: Path) -> str:
        return str(path.resolve()) if self.cfg.absolute_paths else os.path.relpath(path.resolve(), self.out.parent)

    def clip_indices(self, qa) -> list[int]:
        """The keyframes handed for `qa`, in its order: sampled from its frames like `dreamframe.clip.qa_clip`."""
        return handed_frames(qa.frame_indices, self.cfg.num_frames, self.rule, qa.frame_order)

    def record(self, movie: Movie, qa) -> dict[str, Any]:
        indices = self.clip_indices(qa)
        frames = [self.rel(self.folder.frames_dir(movie.id) / frame_name(i)) for i in indices]
        question = question_text(qa.question, qa.options)
        if self.cfg.format == "llava":
            return {"id": qa.id, "pair_id": qa.pair_id, "video": self.rel(self.write_clip(movie, indices)),
                    "frames": frames, "conversations": [
                        {"from": "human", "value": f"{LLAVA_IMAGE_TOKEN}\n{question}"},
                        {"from": "gpt", "value": qa.answer}]}
        tags = SHAREGPT_TAGS[self.cfg.format]
        return {"id": qa.id, "pair_id": qa.pair_id, "videos": [frames], tags["messages"]: [
            {tags["role_tag"]: tags["user_tag"], tags["content_tag"]: VIDEO_TOKEN + question},
            {tags["role_tag"]: tags["assistant_tag"], tags["content_tag"]: qa.answer}]}

    def write_clip(self, movie: Movie, indices: list[int]) -> Path:
        """The QA pair's frames, in the order handed, as an mp4 (named by them, so pairs with the same clip share
        it; kept when it already exists)."""
        from PIL import Image

        from dreamframe.video import encode_video

        path = self.clips_dir / movie.id / f"{'-'.join(f'{i:05d}' for i in indices)}.mp4"
        if not path.exists():  # encode_video writes a temp file and renames it: no half clips after a kill
            encode_video([Image.open(self.folder.frames_dir(movie.id) / frame_name(i)) for i in indices],
                         path, fps=CLIP_FPS)
        return path


def dataset_info_entry(fmt: str, file_name: str) -> dict[str, Any]:
    """LLaMA-Factory's dataset description (data/README.md: file_name, formatting, columns, tags)."""
    tags = SHAREGPT_TAGS[fmt]
    return {"file_name": file_name, "formatting": "sharegpt",
            "columns": {"messages": tags["messages"], "videos": "videos"},
            "tags": {k: v for k, v in tags.items() if k != "messages"}}


def write_dataset_info(out: Path, fmt: str) -> Path:
    """Add (or replace) this export's entry in `dataset_info.json` beside it, keeping the other entries."""
    info_path = out.parent / "dataset_info.json"
    info: dict[str, Any] = {}
    if info_path.exists():
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise DatasetError(f"{info_path}: not valid JSON ({err}); fix or remove it") from None
    info[out.stem] = dataset_info_entry(fmt, out.name)
    atomic_write_text(info_path, json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    return info_path


def export(cfg: ExportConfig) -> int:
    if not cfg.input or not cfg.out:
        raise DatasetError("both --in (dataset folder) and --out (JSON file) are required")
    if cfg.num_frames < 1:
        raise DatasetError(f"--num-frames must be >= 1, got {cfg.num_frames}")
    folder = DatasetFolder(cfg.input)
    exporter = Exporter(folder, cfg, cfg.frame_sampling or folder.manifest().get("frame_sampling", "segment_centre"))
    movies = folder.movies(None if cfg.split == "all" else cfg.split)
    pairs = [(m, qa) for m in movies for qa in m.qa]
    if cfg.progress:
        from tqdm import tqdm

        pairs = tqdm(pairs, desc=f"export {cfg.format}", unit="qa")
    records = [exporter.record(movie, qa) for movie, qa in pairs]
    atomic_write_text(exporter.out, json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    if cfg.format in SHAREGPT_TAGS:
        write_dataset_info(exporter.out, cfg.format)
    return len(records)


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(ExportConfig, argv, prog="python -m data_gen.export", description=__doc__,
                       aliases={"in": "input"})
    try:
        n = export(cfg)
    except (DatasetError, SchemaError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {n} conversations to {cfg.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
