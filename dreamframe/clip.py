"""The clip contract: which frames of which video a model sees, chosen once by the data layer.

A `Clip` names its source (a video file, a folder of frame images, or a list of frame images), the span
to take frames from (frame indices or a time span in seconds), the sampling rule and the frame count.
Training items, eval requests and task rows all carry a Clip; `Clip.load()` is the one place frames are
picked (`dreamframe.frames.sample_indices`) and decoded (`dreamframe.video`). Model adapters only
preprocess the frames they are handed and never resample, so a model is fed exactly `num_frames`.

lm-eval builds every request of a task before the model runs, so decoding in `doc_to_image` would hold all
frames of a benchmark in memory at once (MVBench: 4,000 x 16 frames); a Clip is a light reference that the
LM class decodes one batch at a time.

`ClipSpec` is the (frame count, rule) pair on its own: what a training run resolves once and its export
records, what a benchmark's protocol defaults to, and what a result reports beside its number.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from dreamframe.frames import SamplingRule, sample_indices, sampling_rule, seconds_to_frames
from dreamframe.video import VideoError, decode_frames, frame_files, load_video, read_frame_files, video_info


class MissingVideo(VideoError):
    """The video file or frame folder does not exist."""


@dataclass(frozen=True)
class ClipSpec:
    """How many frames a model sees per clip and the rule that picks them: one value carried from the training
    run through its export to eval and the results, instead of a {"num_frames", "rule"} dict at each step."""

    num_frames: int
    rule: SamplingRule = SamplingRule.segment_centre

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule", sampling_rule(self.rule, "clip rule"))
        if isinstance(self.num_frames, bool) or not isinstance(self.num_frames, int) or self.num_frames < 1:
            raise ValueError(f"clip num_frames must be a positive integer, got {self.num_frames!r}")

    def as_dict(self) -> dict[str, Any]:
        """{"num_frames": int, "rule": str}: the on-disk shape (export metadata, results, summaries)."""
        return {"num_frames": self.num_frames, "rule": str(self.rule)}

    @classmethod
    def from_dict(cls, data: Any, where: str = "clip spec") -> ClipSpec:
        """Inverse of `as_dict`; anything else is a ValueError naming `where` (the file and key it came from)."""
        if not isinstance(data, dict) or set(data) != {"num_frames", "rule"}:
            raise ValueError(f"{where}: expected {{'num_frames', 'rule'}}, got {data!r}")
        try:
            return cls(data["num_frames"], data["rule"])
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None

    def __str__(self) -> str:
        return f"{self.rule} x{self.num_frames}"


@dataclass(frozen=True)
class Clip:
    """One video (file, folder of frames, or listed frame images) and the frames to take from it."""

    path: str
    """Video file or frame folder; with `files`, the folder the listed frames are relative to."""
    num_frames: int
    """Frames handed to the model (a span shorter than this repeats frames, so batch shapes stay fixed)."""
    rule: SamplingRule = SamplingRule.segment_centre
    start_s: float | None = None
    """Bound in seconds (MVBench's bounded tasks); None = from the start."""
    end_s: float | None = None
    fps: float | None = None
    """Frame rate of a frame folder (needed to turn a bound in seconds into frames)."""
    span: tuple[int, int] | None = None
    """Explicit half-open frame span [start, end) (DreamFrame QA); wins over start_s/end_s. In a frame folder,
    frame i is the file whose name ends in the number i."""
    root: str | None = None
    """The benchmark folder the video must lie in: a path from an annotation file (`../../x`, `/etc/x`)
    that leads outside it is refused when loading (counted as unreadable), never read."""
    files: tuple[str, ...] | None = None
    """The clip's frames as a list of image files (relative to `path`): a dataset QA row's frame span, a
    LLaVA JSON record's "frames" or "image"; `num_frames` are sampled from them with `rule`."""
    reverse: bool = False
    """Hand the sampled frames in reverse order (a temporal minimal-pair twin): the same frames are picked as
    for the forward clip, so the twins differ only in order."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule", sampling_rule(self.rule, "clip rule"))
        if self.num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {self.num_frames}")
        if self.files is not None and not self.files:
            raise ValueError(f"{self.path}: a clip of listed frame files needs at least one file")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Clip:
        """Inverse of `as_dict` (a row of a task's JSONL file)."""
        data = dict(data)
        for key in ("span", "files"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return cls(**data)

    def as_dict(self) -> dict[str, Any]:
        """Plain fields (a task row, an answer-cache key); `files` only when set, so the keys of clips
        that have none stay as they were."""
        data = {**asdict(self), "rule": str(self.rule)}
        if data["files"] is None:
            del data["files"]
        if not data["reverse"]:
            del data["reverse"]
        return data

    def __str__(self) -> str:  # what lm-eval writes into the per-sample JSONL
        order = ", reversed" if self.reverse else ""
        return f"Clip({self.path}, n={self.num_frames}, rule={self.rule}, span={self._span_text()}{order})"

    def _span_text(self) -> str:
        if self.files is not None:
            return f"files[{len(self.files)}]"
        if self.span is not None:
            return f"frames[{self.span[0]}:{self.span[1]}]"
        if self.start_s is not None or self.end_s is not None:
            return f"{self.start_s}s-{self.end_s}s"
        return "all"

    def frame_paths(self) -> list[str]:
        """The listed frame files this clip takes (only for a clip of `files`)."""
        if self.files is None:
            raise ValueError(f"{self.path}: not a clip of listed frame files")
        idx = sample_indices(len(self.files), self.num_frames, self.rule)
        return [str(Path(self.path) / self.files[i]) for i in (idx[::-1] if self.reverse else idx)]

    def load(self) -> list[Image.Image]:
        """Decode exactly `num_frames` sampled frames (in reverse with `reverse`); raises MissingVideo or
        VideoError naming the path."""
        frames = self._load()
        return frames[::-1] if self.reverse and self.files is None else frames

    def _load(self) -> list[Image.Image]:
        path = Path(self.path)
        if self.root is not None and not inside(path, Path(self.root)):
            raise VideoError(f"{path}: outside the benchmark folder {self.root}; not read")
        if self.files is not None:
            return self._load_files()
        if not path.exists():
            raise MissingVideo(f"{path}: video not found")
        if self.rule == "videochat2" and self.span is None:
            return self._load_videochat2(path)
        span = self.span
        if span is None and (self.start_s is not None or self.end_s is not None):
            if path.is_dir():
                frames = frame_files(path)
                first, fps = min(frames), self.fps or 3.0
                start, end = seconds_to_frames(self.start_s, self.end_s, fps, max(frames) + 1 - first)
                span = (start + first, end + first)
            else:
                total, fps = video_info(path)
                span = seconds_to_frames(self.start_s, self.end_s, fps, total)
        try:
            return load_video(path, self.num_frames, self.rule, span)
        except VideoError:
            raise
        except (OSError, ValueError) as err:  # a truncated JPEG in a frame folder, an empty span
            raise VideoError(f"{path}: cannot read frames: {err}") from None

    def _load_files(self) -> list[Image.Image]:
        out = []
        for file in self.frame_paths():
            if not Path(file).is_file():
                raise MissingVideo(f"{file}: frame image not found")
            try:
                out.append(Image.open(file).convert("RGB"))
            except OSError as err:
                raise VideoError(f"{file}: cannot read frame image: {err}") from None
        return out

    def _load_videochat2(self, path: Path) -> list[Image.Image]:
        """MVBench's own bounds: the last frame of a video is never in the span, frame folders count
        from 1 (`00001.jpg`, opened by that name), a bound is rounded with Python's round (mvbench.ipynb
        `get_index`)."""
        try:
            if path.is_dir():
                frames = frame_files(path)
                max_frame, first, fps = max(frames), min(frames), self.fps or 3.0
            else:
                total, fps = video_info(path)
                max_frame, first = total - 1, 0
            start = first if self.start_s is None else max(first, round(self.start_s * fps))
            end = max_frame if self.end_s is None else min(round(self.end_s * fps), max_frame)
            if end <= start:  # a bound outside the video: the whole video, not an error
                start, end = first, max_frame
            if end <= start:
                raise VideoError(f"{path}: too few frames ({max_frame + 1 - first})")
            idx = sample_indices(max_frame + 1, self.num_frames, "videochat2", start, end)
            if path.is_dir():
                return read_frame_files(path, frames, idx)
            return decode_frames(path, idx)
        except VideoError:
            raise
        except (OSError, ValueError) as err:
            raise VideoError(f"{path}: cannot read frames: {err}") from None


def qa_clip(root: str | Path, row: dict[str, Any], spec: ClipSpec) -> Clip:
    """The clip of a dataset QA row (dreamframe.dataset.qa_row): `spec.num_frames` picked with `spec.rule` from its
    `frame_paths` (relative to the dataset folder `root`), handed in the row's `frame_order`. Training, its
    built-in check and eval all build a row's clip here, so a reversed twin reaches every model reversed."""
    if not row.get("frame_paths"):
        raise ValueError(f"{root}: QA row {row.get('id')} has no frames")
    order = row.get("frame_order") or "forward"
    if order not in ("forward", "reversed"):
        raise ValueError(f"{root}: QA row {row.get('id')}: frame_order must be forward or reversed, got {order!r}")
    return Clip(str(root), spec.num_frames, spec.rule, files=tuple(row["frame_paths"]), reverse=order == "reversed")


def inside(path: Path, root: Path) -> bool:
    """Whether `path` lies in `root` once `..` and absolute parts are resolved lexically (symlinks a benchmark
    layout places under its root, e.g. a video folder on another disk, stay allowed)."""
    p, r = os.path.abspath(path), os.path.abspath(root)
    return os.path.commonpath([p, r]) == r
