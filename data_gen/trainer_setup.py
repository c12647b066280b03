"""How each trainer must be set up to read an export as written, and the flag choices that would not.

LLaVA-NeXT (LLaVA-VL/LLaVA-NeXT @ df179663, llava/utils.py `process_video_with_decord`, called from
llava/train/train.py `LazySupervisedDataset._get_item`) reads a clip with decord and keeps every
`round(avg_fps / video_fps)`-th frame; then, when `--frames_upbound` > 0 and either the clip has more
frames than that or `--force_sample True`, it replaces them with `np.linspace(0, total - 1, frames_upbound)`.
Its own video script (scripts/video/train/SO400M_Qwen2_7B_ov_to_video_am9.sh) sets `--frames_upbound 64
--force_sample True`, which turns an 8-frame clip into 64 frames, each repeated about 8 times; a
`--video_fps` other than the clips' 1 fps gives a frame step of 0, decord's read fails and `_get_item`
silently trains on the next sample instead.

LLaMA-Factory (hiyouga/LLaMA-Factory, data/README.md) reads `data/dataset_info.json` and joins relative
media paths to `media_dir` (default: `dataset_dir`, usually its `data/` folder): an export whose frame paths
are absolute works wherever its JSON is copied.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from dataclasses import dataclass
from typing import Any

CLIP_FPS = 1
"""The llava export's clips play at 1 frame per second, LLaVA-NeXT's default `--video_fps`."""


@dataclass
class LlavaFlags:
    """The LLaVA-NeXT data flags you will train with (`llava/train/train.py` DataArguments). The export prints
    the flag set that reads every clip as written, and warns when these would resample the clips."""

    frames_upbound: int | None = None
    """`--frames_upbound`; default: the most frames any exported clip has (a bound that never resamples)."""
    force_sample: bool = False
    """`--force_sample`: True resamples every clip to exactly `--frames_upbound` frames."""
    video_fps: int = 1
    """`--video_fps`: the clips play at 1 fps; any other value makes LLaVA-NeXT skip every clip."""


def llava_resampling(flags: LlavaFlags, lengths: Mapping[int, int]) -> list[str]:
    """Why these flags would not hand LLaVA-NeXT the exported frames, given {frames in a clip: clips}."""
    problems = []
    if flags.video_fps != CLIP_FPS:
        step = round(CLIP_FPS / flags.video_fps) if flags.video_fps > 0 else "undefined"
        problems.append(f"--video_fps {flags.video_fps}: decord's frame step round({CLIP_FPS}/{flags.video_fps}) is "
                        f"{step}, so every clip fails to read and LLaVA-NeXT trains on the next sample instead; "
                        f"use --video_fps {CLIP_FPS}")
    bound = flags.frames_upbound or 0
    for n, count in sorted(lengths.items()):
        if bound <= 0 or n == bound or (n < bound and not flags.force_sample):
            continue
        if n < bound:
            problems.append(f"--frames_upbound {bound} --force_sample True: {count} clip(s) of {n} frames become "
                            f"{bound} frames, each frame repeated about {bound / n:.0f} times; use --force_sample False")
        else:
            problems.append(f"--frames_upbound {bound}: {count} clip(s) of {n} frames are cut to {bound} frames "
                            f"(linspace picks); use --frames_upbound {max(lengths)} or export --num-frames {bound}")
    return problems


def llava_flags(flags: LlavaFlags, lengths: Mapping[int, int], video_folder: str) -> list[str]:
    """The LLaVA-NeXT train flags for this export (the user's choices where given)."""
    bound = flags.frames_upbound if flags.frames_upbound is not None else max(lengths, default=0)
    return ["--video_folder", video_folder, "--video_fps", str(flags.video_fps), "--frames_upbound", str(bound),
            "--force_sample", str(flags.force_sample)]


def llamafactory_hint(name: str, out: str, entry: dict[str, Any], absolute: bool) -> str:
    """Where LLaMA-Factory's docs put a dataset, and the entry that registers this one."""
    folder = str(Path(out).parent)
    if not absolute:
        return (f"LLaMA-Factory: the frame paths are relative to {folder}: train with `dataset_dir: {folder}` and "
                f"`dataset: {name}` (its entry is in {folder}/dataset_info.json); to copy the file into "
                "LLaMA-Factory's data/ folder, export with --absolute-paths true")
    return (f"LLaMA-Factory: copy {out} into its data/ folder, add this entry to data/dataset_info.json and train "
            f"with `dataset: {name}`\n  {json.dumps({name: entry})}\n"
            f"  (or train with `dataset_dir: {folder}`, where dataset_info.json already has it)")
