"""Export a dataset folder's QA pairs in the formats video-LVLM trainers read as they are.

    python -m data_gen.export --in runs/data --format llava --out runs/export/llava_train.json
    python -m data_gen.export --in runs/data --format llamafactory --out runs/export/dreamframe_train.json
    python -m data_gen.export --in runs/data --format sharegpt --split test --out runs/export/test.json

Every QA pair brings exactly its own clip, each keyframe once, in its `frame_order` (a reversed
minimal-pair twin lists them last to first): all keyframes of a clip of up to `--num-frames`, else the
`--num-frames` the shared sampler picks (rule from the manifest unless `--frame-sampling`). A 4-keyframe QA
pair exports 4 frames: none of the three trainers needs a fixed count (LLaVA-NeXT takes any clip length,
LLaMA-Factory's plugins pad what their processors need). Each record carries the pair's `pair_id` (null:
unpaired). Paths are absolute, so they resolve wherever the trainer's docs put the JSON (`--absolute-paths
false`: relative to the output file's folder). `<out stem>.export.json` records the frames per clip, the rule
and the trainer setup, which is also printed.

- `llava` (LLaVA-NeXT / LLaVA-OneVision `llava/train/train.py`): {"id", "video", "frames",
  "conversations": [{"from": "human", "value": "<image>\\nQ"}, {"from": "gpt", "value": "A"}]}. LLaVA-NeXT
  marks video with the `<image>` token too, and reads `video` (joined to `--video_folder`) with decord,
  so each clip is written as its own mp4 under `<out stem>.clips/` at 1 frame per second. The export
  prints the flags that read every clip as written (`--video_fps 1 --frames_upbound <most frames in a
  clip> --force_sample False`) and warns when the flags given with `--llava.*` would resample the clips
  (data_gen/trainer_setup.py: LLaVA-NeXT's own video script sets `--frames_upbound 64 --force_sample
  True`). `frames` lists the same frames as images (read by DreamFrame's own `training.train`).
- `llamafactory` (LLaMA-Factory, `sharegpt` formatting with OpenAI-style tags): {"id", "messages":
  [{"role": "user", "content": "<video>Q"}, {"role": "assistant", "content": "A"}], "videos": [[frame
  paths]]}; a video is its list of frames.
- `sharegpt` (the ShareGPT layout): {"id", "conversations": [{"from": "human", "value": "<video>Q"},
  {"from": "gpt", ...}], "videos": [[frame paths]]}.
Both ShareGPT flavours also get their entry (named after the output file) in `dataset_info.json` beside
the output file, and the export prints it: copy the JSON into LLaMA-Factory's `data/` and add the entry
to `data/dataset_info.json` (its README's way), or train with `dataset_dir: <that folder>`.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from dreamframe.atomic import atomic_write_text
from dreamframe.config import parse_config
from dreamframe.dataset import DatasetError, DatasetFolder, frame_name
from data_gen.trainer_setup import CLIP_FPS, LlavaFlags, llamafactory_hint, llava_flags, llava_resampling
from dreamframe.frames import SamplingRule, handed_frames
from dreamframe.prompts import question_text
from dreamframe.schema import Movie, SchemaError

LLAVA_IMAGE_TOKEN = "<image>"
"""LLaVA-NeXT's DEFAULT_IMAGE_TOKEN (llava/constants.py), its visual placeholder for images and video alike."""
VIDEO_TOKEN = "<video>"
"""LLaMA-Factory's VIDEO_PLACEHOLDER (src/llamafactory/extras/constants.py)."""
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
    """Most frames per QA pair: a span with fewer keyframes exports each of them once."""
    frame_sampling: SamplingRule | None = None
    """Sampling rule; default: the one recorded in the dataset's manifest."""
    absolute_paths: bool = True
    """Absolute frame and clip paths (they resolve from LLaMA-Factory's data/ and any --video_folder);
    false: relative to the output file's folder, for an export moved together with its dataset."""
    llava: LlavaFlags = field(default_factory=LlavaFlags)
    """(llava) the LLaVA-NeXT flags you will train with: checked against the clips, printed and recorded."""
    progress: bool = True
    """Show a progress bar."""


class Exporter:
    """Turns the movies of one dataset folder into records of one format."""

    def __init__(self, folder: DatasetFolder, cfg: ExportConfig, rule: SamplingRule):
        self.folder, self.cfg, self.rule = folder, cfg, rule
        self.out = Path(cfg.out).resolve()
        self.clips_dir = self.out.with_name(self.out.stem + ".clips")
        self.lengths: Counter[int] = Counter()
        """{frames in a clip: records with that many}"""

    def rel(self, path: Path) -> str:
        return str(path.resolve()) if self.cfg.absolute_paths else os.path.relpath(path.resolve(), self.out.parent)

    def clip_indices(self, qa) -> list[int]:
        """The keyframes exported for `qa`, in its order, each once (`dreamframe.frames.handed_frames`)."""
        return handed_frames(qa.frame_indices, self.cfg.num_frames, self.rule, qa.frame_order, distinct=True)

    def record(self, movie: Movie, qa) -> dict[str, Any]:
        indices = self.clip_indices(qa)
        self.lengths[len(indices)] += 1
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


def export(cfg: ExportConfig) -> dict[str, Any]:
    """Write the export and `<out stem>.export.json` (what was exported and how to train on it); returns the latter."""
    if not cfg.input or not cfg.out:
        raise DatasetError("both --in (dataset folder) and --out (JSON file) are required")
    if cfg.num_frames < 1:
        raise DatasetError(f"--num-frames must be >= 1, got {cfg.num_frames}")
    folder = DatasetFolder(cfg.input)
    folder.manifest()  # a finished dataset folder, or a DatasetError naming it
    exporter = Exporter(folder, cfg, cfg.frame_sampling or folder.frame_rule() or "segment_centre")
    movies = folder.movies(None if cfg.split == "all" else cfg.split)
    pairs = [(m, qa) for m in movies for qa in m.qa]
    if cfg.progress:
        from tqdm import tqdm

        pairs = tqdm(pairs, desc=f"export {cfg.format}", unit="qa")
    records = [exporter.record(movie, qa) for movie, qa in pairs]
    atomic_write_text(exporter.out, json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    summary = export_summary(cfg, exporter, len(records))
    if cfg.format in SHAREGPT_TAGS:
        write_dataset_info(exporter.out, cfg.format)
    atomic_write_text(exporter.out.with_name(exporter.out.stem + ".export.json"), json.dumps(summary, indent=2) + "\n")
    return summary


def export_summary(cfg: ExportConfig, exporter: Exporter, n: int) -> dict[str, Any]:
    """What the export holds (frames per clip, each keyframe once) and the trainer setup that reads it as written."""
    lengths = exporter.lengths
    summary: dict[str, Any] = {
        "format": cfg.format, "input": str(Path(cfg.input).resolve()), "split": cfg.split, "records": n,
        "frame_sampling": str(exporter.rule), "max_frames": cfg.num_frames, "repeated_frames": False,
        "frames_per_clip": {str(k): v for k, v in sorted(lengths.items())}, "absolute_paths": cfg.absolute_paths}
    out = str(exporter.out)
    if cfg.format == "llava":
        summary["llava"] = asdict(cfg.llava)
        summary["train_flags"] = llava_flags(cfg.llava, lengths, str(exporter.out.parent))
        summary["warnings"] = llava_resampling(cfg.llava, lengths)
        summary["setup"] = "LLaVA-NeXT (llava/train/train.py): " + " ".join(summary["train_flags"])
    else:
        entry = dataset_info_entry(cfg.format, exporter.out.name)
        summary["dataset_info"] = {exporter.out.stem: entry}
        summary["warnings"] = []
        summary["setup"] = llamafactory_hint(exporter.out.stem, out, entry, cfg.absolute_paths)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_config(ExportConfig, argv, prog="python -m data_gen.export", description=__doc__,
                       aliases={"in": "input"})
    try:
        summary = export(cfg)
    except (DatasetError, SchemaError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {summary['records']} conversations to {cfg.out} (frames per clip: "
          + ", ".join(f"{k}: {v}" for k, v in summary["frames_per_clip"].items()) + ")")
    print(summary["setup"])
    for warning in summary["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
