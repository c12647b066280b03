"""The one frame sampler: every room picks frames with it, and records the rule it used.

Harnesses differ on whether the first and last frames may be chosen, and that alone moves scores,
so the rule is a named option rather than an implementation detail.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import numpy as np


class SamplingRule(StrEnum):
    """How a clip's frames are picked from its span (see `sample_indices`). A config field of this type is
    checked when the command line / YAML is parsed, so a misspelt rule stops a run before any work."""

    segment_centre = "segment_centre"
    linspace_inclusive = "linspace_inclusive"
    linspace_exclusive = "linspace_exclusive"
    videochat2 = "videochat2"


SAMPLING_RULES: tuple[str, ...] = tuple(r.value for r in SamplingRule)


def sampling_rule(value: str, where: str = "frame_sampling") -> SamplingRule:
    """`value` as a SamplingRule, or a ValueError naming `where` and the rules there are."""
    try:
        return SamplingRule(value)
    except ValueError:
        raise ValueError(f"{where}: unknown sampling rule {value!r}; choose one of {SAMPLING_RULES}") from None


def recorded_rule(manifest: dict[str, Any], where: str = "manifest.json") -> SamplingRule | None:
    """The rule a dataset manifest records (None: none), read one way everywhere. Canonical: the resolved
    config's `frame_sampling`; manifests written before it was canonical also carry a top-level copy."""
    value = (manifest.get("config") or {}).get("frame_sampling") or manifest.get("frame_sampling")
    return None if value is None else sampling_rule(value, f"{where}: frame_sampling")


def sample_indices(
    num_frames: int,
    n: int,
    rule: SamplingRule | str = SamplingRule.segment_centre,
    start: int = 0,
    end: int | None = None,
) -> list[int]:
    """Pick `n` frame indices from the half-open span [start, end) of a `num_frames`-frame video.

    - segment_centre: centre of each of n equal segments (MVBench / VideoChat2);
    - linspace_inclusive: n evenly spaced, first and last frame included (Video-LLaVA style);
    - linspace_exclusive: n evenly spaced, first and last excluded (n+2 points, ends dropped);
    - videochat2: MVBench's own segment centres, `start + int(seg/2 + round(seg*i))` (VideoChat2
      `get_index`; on spans shorter than n it may pick `end` itself, as the original does).
    A span shorter than n repeats frames rather than returning fewer, so batch shapes stay fixed.
    """
    end = num_frames if end is None else end
    start, end = max(0, start), min(num_frames, end)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if end <= start:
        raise ValueError(f"empty frame span [{start}, {end}) in a {num_frames}-frame video")
    length = end - start
    rule = sampling_rule(rule, "sample_indices")
    if rule == "videochat2":
        seg = length / n
        return [min(num_frames - 1, start + int(seg / 2 + np.round(seg * i))) for i in range(n)]
    if rule == "segment_centre":
        seg = length / n
        pos = (np.arange(n) + 0.5) * seg
    elif rule == "linspace_inclusive":
        pos = np.linspace(0, length - 1, n)
    else:
        pos = np.linspace(0, length - 1, n + 2)[1:-1]
    idx = np.clip(np.floor(pos + 1e-9).astype(int) if rule == "segment_centre" else np.round(pos).astype(int),
                  0, length - 1)
    return [int(start + i) for i in idx]


def seconds_to_frames(start_s: float | None, end_s: float | None, fps: float, num_frames: int) -> tuple[int, int]:
    """A [start_s, end_s] bound in seconds as a half-open frame span (MVBench's bounded tasks)."""
    start = 0 if start_s is None else max(0, int(round(start_s * fps)))
    end = num_frames if end_s is None else min(num_frames, int(round(end_s * fps)) + 1)
    return (start, end) if end > start else (0, num_frames)


def handed_frames(keyframes: list[int], n: int, rule: SamplingRule | str, order: str = "forward",
                  distinct: bool = False) -> list[int]:
    """The keyframes a model is handed from a clip of `keyframes` (story order): `n` picked with `rule`, in
    `order` (a reversed minimal-pair twin gets the forward pick reversed). `dreamframe.clip.qa_clip` loads
    exactly these; generation and the dataset check reason about them. `distinct` (exports): every keyframe
    of a clip of `n` or fewer, else the rule's picks with repeats dropped - a repeated keyframe only adds
    visual tokens (`sample_indices` repeats on short clips to keep batch shapes fixed; a trainer that needs a
    fixed count pads its own batches)."""
    if distinct and len(keyframes) <= n:
        picked = list(keyframes)
    else:
        picked = [keyframes[i] for i in sample_indices(len(keyframes), n, rule)]
        picked = list(dict.fromkeys(picked)) if distinct else picked
    return picked[::-1] if order == "reversed" else picked
