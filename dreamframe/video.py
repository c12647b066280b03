"""Video decode and encode with PyAV, plus loading a folder of frame images as a video."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from dreamframe.frames import SamplingRule, sample_indices

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


class VideoError(RuntimeError):
    """A video that is missing or cannot be decoded; the message names the path."""


def encode_video(frames: Sequence[Image.Image | np.ndarray], path: str | Path, fps: float = 2.0,
                 codec: str = "libx264", crf: int = 23) -> None:
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = [np.asarray(f.convert("RGB") if isinstance(f, Image.Image) else f) for f in frames]
    h, w = arrays[0].shape[:2]
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    with av.open(str(tmp), mode="w") as container:
        stream = container.add_stream(codec, rate=int(round(fps)) or 1)
        stream.width, stream.height = w - w % 2, h - h % 2
        stream.pix_fmt = "yuv420p"
        # One encoder thread: x264's automatic thread count follows the machine (and, frame-threaded, changes
        # the bitstream), so a dataset's videos would differ from one host to the next; keyframe clips are short.
        stream.codec_context.thread_type, stream.codec_context.thread_count = "SLICE", 1
        if codec == "libx264":
            stream.options = {"crf": str(crf)}
        for arr in arrays:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr[: stream.height, : stream.width]), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    tmp.replace(path)


def video_info(path: str | Path) -> tuple[int, float]:
    """(number of frames, fps); counts by decoding when the container does not say."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 30)
            n = stream.frames or sum(1 for _ in container.decode(video=0))
            return n, fps
    except (OSError, av.FFmpegError, IndexError) as err:
        raise VideoError(f"{path}: cannot read video: {err}") from None


def decode_frames(path: str | Path, indices: Sequence[int]) -> list[Image.Image]:
    """Decode the frames at `indices` (sorted or not; repeats allowed) in one sequential pass."""
    import av

    wanted = sorted(set(indices))
    got: dict[int, Image.Image] = {}
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for i, frame in enumerate(container.decode(stream)):
                if i in wanted:
                    got[i] = frame.to_image()
                if i >= wanted[-1]:
                    break
    except (OSError, av.FFmpegError, IndexError) as err:
        raise VideoError(f"{path}: cannot decode video: {err}") from None
    if not got:
        raise VideoError(f"{path}: no frames decoded")
    last = max(got)
    return [got.get(i, got[last]) for i in indices]


def list_frame_files(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise VideoError(f"{folder}: no frame images found")
    return files


def frame_files(folder: str | Path) -> dict[int, Path]:
    """A frame folder's images by frame index: the number ending each file name (`00007.jpg` -> 7; DreamFrame
    counts from 0, MVBench from 1), or the listing position when the names carry no number. Frames are
    addressed by this index, so a missing file fails the clips that need it instead of shifting the rest."""
    files = list_frame_files(folder)
    numbers = [re.search(r"(\d+)$", p.stem) for p in files]
    if not all(numbers):
        return dict(enumerate(files))
    out: dict[int, Path] = {}
    for path, m in zip(files, numbers):
        i = int(m.group(1))  # type: ignore[union-attr]
        if i in out:
            raise VideoError(f"{folder}: two files for frame {i}: {out[i].name}, {path.name}")
        out[i] = path
    return out


def read_frame_files(folder: str | Path, frames: dict[int, Path], indices: Sequence[int]) -> list[Image.Image]:
    """Open the frames at `indices` (indices of `frame_files`); a missing one is a VideoError naming its file."""
    missing = sorted({i for i in indices if i not in frames})
    if missing:
        sample = next(iter(frames.values()))
        names = ", ".join(f"{i:0{len(sample.stem)}d}{sample.suffix}" for i in missing)
        raise VideoError(f"{folder}: frame file(s) missing: {names} (frames are addressed by the number in "
                         "their file name, so a gap is an error, not a shift)")
    return [Image.open(frames[i]).convert("RGB") for i in indices]


def load_video(path: str | Path, n: int, rule: SamplingRule = "segment_centre",
               span: tuple[int, int] | None = None) -> list[Image.Image]:
    """n frames from a video file or a folder of frame images, chosen by the shared sampler. For a folder,
    `span` is in frame indices (the numbers in the file names; default: first to last file)."""
    path = Path(path)
    if not path.exists():
        raise VideoError(f"{path}: video not found")
    if path.is_dir():
        frames = frame_files(path)
        start, end = span or (min(frames), max(frames) + 1)
        return read_frame_files(path, frames, sample_indices(end, n, rule, start, end))
    total, _ = video_info(path)
    start, end = span or (0, total)
    return decode_frames(path, sample_indices(total, n, rule, start, end))
