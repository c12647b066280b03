import json
import subprocess
import sys
import time
from pathlib import Path

import datasets
import pytest
import yaml

from data_gen.generate import generate, main
from dreamframe.dataset import DatasetError, DatasetFolder
from dreamframe.schema import SchemaError
from tests.conftest import REPO
from tests.data_gen.dataset_fixtures import tiny_config


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every movie JSON, QA table and frame, byte for byte (manifest excluded: it has a timestamp)."""
    files = [*root.glob("movies/*.json"), *root.glob("qa/*.parquet"), *root.glob("frames/*/*.jpg"),
             *root.glob("style/*")]
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(files)}


def test_same_seed_is_byte_identical_and_other_seed_differs(tmp_path):
    generate(tiny_config(tmp_path / "a", workers=2), progress=False)
    generate(tiny_config(tmp_path / "b", workers=1), progress=False)
    generate(tiny_config(tmp_path / "c", seed=1), progress=False)
    a, b, c = (_snapshot(tmp_path / x) for x in "abc")
    assert a and a == b
    assert a["movies/m00000.json"] != c["movies/m00000.json"]


def test_dataset_round_trip(dataset):
    folder = DatasetFolder(dataset)
    manifest = folder.manifest()
    assert manifest["counts"]["movies"] == 12 == len(folder.movies())
    assert manifest["config"]["frame_sampling"] == folder.frame_rule() == "segment_centre"
    assert "frame_sampling" not in manifest  # one record of the rule: the resolved config's
    assert manifest["config"]["story"]["chapters"] == 2
    assert "numpy" in manifest["packages"]
    total = 0
    for split in ("train", "test"):
        table = datasets.load_dataset("parquet", data_files=folder.qa_files(split), split="train")
        assert len(table) == manifest["counts"]["qa_by_split"][split] > 0
        assert set(table["split"]) == {split}
        total += len(table)
        row = table[0]
        movie = folder.load_movie(row["movie_id"])
        qa = next(q for q in movie.qa if q.id == row["id"])
        assert (row["question"], row["answer"], row["options"]) == (qa.question, qa.answer, qa.options)
        assert len(row["frame_paths"]) == qa.frame_end - qa.frame_start
        assert all((dataset / p).is_file() for p in row["frame_paths"])
    assert total == manifest["counts"]["qa"]
    train_ids = {m.id for m in folder.movies("train")}
    assert train_ids.isdisjoint(m.id for m in folder.movies("test"))
    for movie in folder.movies():
        assert len(folder.frame_paths(movie.id)) == movie.num_frames


def test_shards_fill_one_folder_like_a_single_run(tmp_path):
    generate(tiny_config(tmp_path / "one", num_movies=6), progress=False)
    for i in range(2):
        generate(tiny_config(tmp_path / "sharded", num_movies=6, shard_index=i, num_shards=2), progress=False)
    assert _snapshot(tmp_path / "one") == _snapshot(tmp_path / "sharded")


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    generate(tiny_config(tmp_path / "ref", num_movies=10), progress=False)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "data_gen.generate", "--config", str(REPO / "configs/data_gen/tiny.yaml"),
           "--out", str(out), "--num-movies", "10", "--render.size", "96"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(out.glob("movies/*.json"))) < 2:
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    partial = len(list(out.glob("movies/*.json")))
    assert 2 <= partial < 10, "the kill should land mid-run"
    assert main(cmd[3:]) == 0
    assert _snapshot(out) == _snapshot(tmp_path / "ref")
    assert not list(out.glob("frames/.*")), "temporary frame folders are cleaned up"
    manifest = DatasetFolder(out).manifest()
    assert manifest["last_run"]["skipped_finished"] == partial


def test_different_config_is_refused_and_nothing_is_overwritten(tmp_path):
    out = tmp_path / "d"
    generate(tiny_config(out), progress=False)
    before = _snapshot(out)
    with pytest.raises(DatasetError, match=r"different config \(story.frames: 3 -> 5"):
        generate(tiny_config(out, story={**yaml.safe_load((REPO / "configs/data_gen/tiny.yaml").read_text())["story"],
                                         "frames": 5}), progress=False)
    assert _snapshot(out) == before
    # runtime options (more movies, more workers) may change: the folder is extended
    generate(tiny_config(out, num_movies=5, workers=2), progress=False)
    assert len(list(out.glob("movies/*.json"))) == 5


def test_unknown_config_key_is_a_clear_error(tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("story:\n  chapterz: 3\n")
    with pytest.raises(SystemExit):
        main(["--config", str(cfg), "--out", str(tmp_path / "o")])
    assert "chapterz" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_corrupt_movie_json_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "d"
    generate(tiny_config(out), progress=False)
    bad = out / "movies" / "m00001.json"
    bad.write_text(bad.read_text()[:200])
    before = _snapshot(out)
    with pytest.raises(SchemaError, match=str(bad)):
        generate(tiny_config(out), progress=False)
    assert main(["--config", str(REPO / "configs/data_gen/tiny.yaml"), "--out", str(out)]) == 2
    assert str(bad) in capsys.readouterr().err
    assert _snapshot(out) == before


def test_foreign_folder_is_refused(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not a DreamFrame dataset"):
        generate(tiny_config(tmp_path / "x"), progress=False)
    assert (tmp_path / "x" / "notes.txt").read_text() == "mine"


def test_cli_help_is_instant_and_lists_options():
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "data_gen.generate", "--help"], cwd=REPO,
                         capture_output=True, text=True, check=True)
    assert "--story.chapters" in out.stdout and "Chapters per movie" in out.stdout
    assert "torch" not in {line.split("|")[-1].strip().split(".")[0] for line in out.stderr.splitlines()}


def test_configs_match_dataclass_defaults():
    from data_gen.config import GenerateConfig
    from dreamframe.config import from_dict, load_yaml, to_dict

    default = load_yaml(REPO / "configs/data_gen/default.yaml")
    assert {**to_dict(GenerateConfig()), "out": None} == {**default, "out": None}
    for path in sorted((REPO / "configs/data_gen").glob("*.yaml")):
        from_dict(GenerateConfig, load_yaml(path))  # a stale key fails here, naming it
    json.dumps(default)
