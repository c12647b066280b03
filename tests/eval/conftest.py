"""Fixtures in the benchmarks' official layouts, with tiny generated videos."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dreamframe.video import encode_video
from eval.tasks.mvbench import _SPEC

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def colour_frames(n: int, size: int = 32, seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)) for _ in range(n)]


def write_mvbench(root: Path, per_task: int = 1, tasks: list[str] | None = None,
                  missing: str | None = None, unreadable: str | None = None) -> Path:
    """MVBench/json/<task>.json + MVBench/video/<prefix>/<video>; episodic reasoning as a 3-fps frame folder.

    `missing` / `unreadable`: a task whose first item points at a video that is absent / not a video.
    """
    root = root / "MVBench"
    (root / "json").mkdir(parents=True, exist_ok=True)
    for t, (json_name, prefix, data_type, bounded) in _SPEC.items():
        if tasks is not None and t not in tasks:
            continue
        items = []
        for i in range(per_task):
            video = f"{t}_{i}" + ("" if data_type == "frame" else ".mp4")
            target = root / "video" / prefix / video
            if t == missing and i == 0:
                video = f"absent_{i}.mp4"
            elif t == unreadable and i == 0:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(b"this is not a video")
            elif data_type == "frame":
                target.mkdir(parents=True, exist_ok=True)
                for k, img in enumerate(colour_frames(12, seed=i), start=1):
                    img.save(target / f"{k:05d}.jpg")
            else:
                encode_video(colour_frames(12, seed=i), target, fps=4)
            item = {"video": video, "question": f"What happens in {t} clip {i}?",
                    "candidates": ["a cat runs", "a dog sits", "nothing"], "answer": ["a cat runs", "a dog sits", "nothing"][i % 3]}
            if bounded:
                item.update(start=0.5, end=2.5)
            items.append(item)
        (root / "json" / json_name).write_text(json.dumps(items))
    return root


@pytest.fixture(scope="session")
def mvbench_root(tmp_path_factory) -> Path:
    return write_mvbench(tmp_path_factory.mktemp("bench"), per_task=1)


@pytest.fixture(scope="session")
def heldout_root(tmp_path_factory) -> Path:
    """A tiny DreamFrame dataset folder made by the real generator (4 movies, 22 held-out QA)."""
    from data_gen.config import GenerateConfig
    from data_gen.generate import generate
    from dreamframe.config import from_dict, load_yaml

    out = tmp_path_factory.mktemp("df") / "data"
    data = load_yaml(str(Path(__file__).parents[2] / "configs/data_gen/tiny.yaml"))
    data["out"] = str(out)
    generate(from_dict(GenerateConfig, data), progress=False)
    return out


@pytest.fixture(scope="session")
def broken_mvbench(tmp_path_factory) -> Path:
    """All 20 MVBench tasks, one item each; action antonym's video is missing, object shuffle's is not a video."""
    return write_mvbench(tmp_path_factory.mktemp("mvb"), per_task=1, missing="action_antonym",
                         unreadable="object_shuffle")
