"""`datasets.load_dataset(<folder>)` returns that folder's rows: two folders with one base name never
share a cache entry (in one process or across processes), a folder a later run extended is read again,
an empty split leaves the other one loadable, and the lowest `datasets` the project declares does all this."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dreamframe.dataset import DatasetFolder
from tests.conftest import REPO
from tests.data_gen.dataset_fixtures import tiny_config

LOAD = """
import json, sys, datasets
ds = datasets.load_dataset(sys.argv[1], cache_dir=sys.argv[2])
print(json.dumps({s: {"ids": sorted(ds[s]["id"]), "frames": len(ds[s][0]["frames"])} for s in ds}))
"""


def qa_ids(folder: Path) -> dict[str, list[str]]:
    """The QA ids of each split that has rows, read from the movies themselves."""
    out = {s: sorted(q.id for m in DatasetFolder(folder).movies(s) for q in m.qa) for s in ("train", "test")}
    return {s: ids for s, ids in out.items() if ids}


def load_ids(folder: Path, cache: Path) -> dict[str, list[str]]:
    import datasets

    ds = datasets.load_dataset(str(folder), cache_dir=str(cache))
    return {s: sorted(ds[s]["id"]) for s in ds}


def load_in_fresh_process(python: str, folder: Path, cache: Path) -> dict[str, dict]:
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([python, "-c", LOAD, str(folder), str(cache)], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A 3-movie folder with the shared fixture's base name (`data`): its test split is empty."""
    out = tmp_path_factory.mktemp("other") / "data"
    from data_gen.generate import generate

    generate(tiny_config(out, num_movies=3, workers=1), progress=False)
    return out


def test_same_named_folders_load_their_own_rows_in_one_process_and_in_another(dataset, small, tmp_path):
    assert dataset.name == small.name
    cache = tmp_path / "cache"
    assert load_ids(dataset, cache) == qa_ids(dataset)
    assert load_ids(small, cache) == qa_ids(small)  # the old card: the 12-movie folder's rows again
    fresh = load_in_fresh_process(sys.executable, small, cache)
    assert {s: v["ids"] for s, v in fresh.items()} == qa_ids(small)
    assert load_ids(dataset, cache) == qa_ids(dataset)


def test_empty_split_leaves_the_other_loadable_and_an_extended_folder_is_read_again(tmp_path):
    from data_gen.generate import generate

    out = tmp_path / "data"
    generate(tiny_config(out, num_movies=3, workers=1), progress=False)
    assert DatasetFolder(out).manifest()["counts"]["qa_by_split"]["test"] == 0
    cache = tmp_path / "cache"
    first = load_ids(out, cache)
    assert first == qa_ids(out) and set(first) == {"train"}  # the old card: ArrowInvalid on the empty split
    generate(tiny_config(out, num_movies=5, workers=1), progress=False)  # a later run adds movies
    again = load_ids(out, cache)
    assert again == qa_ids(out) and set(again) == {"train", "test"} and len(again["train"]) > len(first["train"])


def declared_floor() -> str:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    return re.search(r'"datasets>=([0-9.]+)"', text).group(1)


def floor_python() -> str | None:
    """An interpreter with exactly the declared lowest `datasets`: DREAMFRAME_DATASETS_FLOOR_PYTHON (a venv
    with `pip install datasets==<floor> pillow`), or this one when it has that version."""
    import datasets

    if os.environ.get("DREAMFRAME_DATASETS_FLOOR_PYTHON"):
        return os.environ["DREAMFRAME_DATASETS_FLOOR_PYTHON"]
    return sys.executable if datasets.__version__ == declared_floor() else None


@pytest.mark.opt_in
def test_the_declared_lowest_datasets_loads_frames_and_keeps_folders_apart(dataset, small, tmp_path):
    python = floor_python()
    if python is None:
        pytest.skip(f"no interpreter with datasets=={declared_floor()} (set DREAMFRAME_DATASETS_FLOOR_PYTHON)")
    version = subprocess.run([python, "-c", "import datasets; print(datasets.__version__)"], capture_output=True,
                             text=True, check=True).stdout.strip()
    assert version == declared_floor()
    cache = tmp_path / "cache"
    big = load_in_fresh_process(python, dataset, cache)
    assert {s: v["ids"] for s, v in big.items()} == qa_ids(dataset)
    assert big["train"]["frames"] > 0  # frames decoded through the card's metadata file (3.6: image-only rows)
    assert {s: v["ids"] for s, v in load_in_fresh_process(python, small, cache).items()} == qa_ids(small)
