"""The data check before training (issue 12): a corrupt movie JSON, a truncated or empty JPEG, a missing
frame - the run stops before training starts, naming the file (it used to fail when that batch loaded,
hours in, or not at all)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.training.conftest import tiny_overrides
from training.config import DataConfig, SourceConfig
from training.data_check import check_training_data
from training.train import main


def damaged_copy(tiny_data: Path, tmp_path: Path, damage: str) -> tuple[Path, Path]:
    """A copy of the dataset with one file damaged; returns (dataset, the damaged file)."""
    data = tmp_path / "data"
    shutil.copytree(tiny_data, data)
    if damage == "movie json":
        target = sorted((data / "movies").glob("*.json"))[0]
        target.write_text(target.read_text()[:40])
        return data, target
    import pyarrow.parquet as pq

    row = pq.read_table(data / "qa" / "train-00000-of-00001.parquet").to_pylist()[0]
    target = data / row["frame_paths"][-1]
    if damage == "truncated jpeg":
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    elif damage == "empty jpeg":
        target.write_bytes(b"")
    elif damage == "missing frame":
        target.unlink()
    elif damage == "not an image":
        target.write_text("<html>404</html>")
    return data, target


@pytest.mark.parametrize("damage, why", [("movie json", ""), ("truncated jpeg", "truncated JPEG"),
                                         ("empty jpeg", "not a JPEG"), ("missing frame", "missing"),
                                         ("not an image", "not a JPEG")])
def test_damaged_file_is_named(tiny_data, tmp_path, damage, why):
    from dreamframe.dataset import DatasetError

    data, target = damaged_copy(tiny_data, tmp_path, damage)
    with pytest.raises(DatasetError) as err:
        check_training_data(DataConfig(sources=[SourceConfig(path=str(data))]))
    assert f"{target}: {why}" in str(err.value)


def test_whole_data_passes_and_llava_json_media_are_checked(tiny_data, tmp_path):
    assert "look whole" in check_training_data(DataConfig(sources=[SourceConfig(path=str(tiny_data))]))
    frame = next((tiny_data / "frames").rglob("*.jpg"))
    png = tmp_path / "cut.png"
    Image.new("RGB", (8, 8)).save(png)
    png.write_bytes(png.read_bytes()[:-6])
    records = [{"id": "a", "frames": [str(frame), "nowhere.jpg", str(png)], "conversations": []}]
    (tmp_path / "llava.json").write_text(json.dumps(records))
    from dreamframe.dataset import DatasetError

    with pytest.raises(DatasetError) as err:
        check_training_data(DataConfig(sources=[SourceConfig(path=str(tmp_path / "llava.json"))]))
    assert "nowhere.jpg: missing" in str(err.value) and f"{png}: truncated PNG" in str(err.value)
    assert str(frame) not in str(err.value)


def test_train_stops_before_training_naming_the_file(tiny_data, tmp_path, capsys):
    data, target = damaged_copy(tiny_data, tmp_path, "truncated jpeg")
    out = tmp_path / "out"
    assert main(tiny_overrides(data, out, max_steps=40, checkpoint_every_n_steps=1000, export="false")) == 2
    assert f"{target}: truncated JPEG" in capsys.readouterr().err
    assert not out.exists(), "nothing was started"


def test_a_folder_listed_by_two_sources_is_checked_once(tiny_data, tmp_path):
    """A curriculum (configs/train/tiny_cpu.yaml) lists one folder twice: its damage is reported once."""
    from dreamframe.dataset import DatasetError

    data, target = damaged_copy(tiny_data, tmp_path, "missing frame")
    twice = DataConfig(sources=[SourceConfig(path=str(data)), SourceConfig(path=str(data), qa_types=["colour"])])
    with pytest.raises(DatasetError) as err:
        check_training_data(twice)
    assert str(err.value).startswith("data check: 1 damaged") and str(err.value).count(str(target)) == 1
