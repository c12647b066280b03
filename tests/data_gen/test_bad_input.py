"""Bad options are refused at parse time naming the option; a damaged dataset is named file by file."""

import shutil
import subprocess
import sys

import pytest

from data_gen.check import main as check_main
from data_gen.config import GenerateConfig
from data_gen.generate import generate, main
from dreamframe.config import from_dict, load_yaml
from dreamframe.dataset import DatasetError
from dreamframe.dataset_check import check_dataset
from tests.conftest import REPO
from tests.data_gen.dataset_fixtures import tiny_config

TINY = ["--config", str(REPO / "configs/data_gen/tiny.yaml")]


@pytest.mark.parametrize("option, value, named", [
    ("--num-movies", "-3", "num_movies"),
    ("--qa.num_options", "0", "qa.num_options"),
    ("--qa.num_options", "1", "qa.num_options"),
    ("--test_fraction", "2", "test_fraction"),
    ("--qa.per_substory", "-1", "qa.per_substory"),
    ("--story.chapters", "0", "story.chapters"),
    ("--render.size", "0", "render.size"),
    ("--render.video_fps", "-2", "render.video_fps"),
    ("--num-shards", "0", "num_shards"),
    ("--workers", "0", "workers"),
    ("--movie_prefix", "../x", "movie_prefix"),
    ("--movie_prefix", "p" * 240, "movie_prefix"),  # "File name too long" mid-run, the folder locked to it
])
def test_bad_counts_and_ranges_are_refused_naming_the_option(tmp_path, capsys, option, value, named):
    out = tmp_path / "d"
    with pytest.raises(SystemExit) as info:
        main([*TINY, "--out", str(out), option, value])
    assert info.value.code != 0
    err = capsys.readouterr().err
    message = err[err.index("error:"):]
    assert f'"{named}"' in message and "shard_index" not in message
    assert not out.exists(), "nothing is written for a bad config"


def test_the_longest_movie_prefix_makes_file_names_a_file_system_takes(tmp_path):
    from data_gen.config import MAX_PREFIX
    from dreamframe.config import parse_config

    cfg = parse_config(GenerateConfig, [*TINY, "--out", str(tmp_path), "--movie_prefix", "p" * MAX_PREFIX], "g", "")
    longest = f".{cfg.movie_prefix}{10**6:05d}.tmp-{'h' * 64}-{2**22}.partial"  # 64: the longest host name
    (tmp_path / longest).write_text("")  # raises "File name too long" when MAX_PREFIX is too big


def test_programmatic_configs_are_checked_the_same_way(tmp_path):
    data = load_yaml(REPO / "configs/data_gen/tiny.yaml")
    with pytest.raises(ValueError, match=r"--qa\.num_options: 0 does not conform"):
        from_dict(GenerateConfig, {**data, "qa": {**data["qa"], "num_options": 0}})
    with pytest.raises(DatasetError, match=r"--shard_index must be in \[0, --num_shards=2\)"):
        generate(tiny_config(tmp_path / "d", shard_index=2, num_shards=2), progress=False)
    with pytest.raises(DatasetError, match="character_weights"):
        generate(tiny_config(tmp_path / "d", story={**data["story"], "character_weights": [0, 0, 0]}), progress=False)
    assert not (tmp_path / "d").exists()


def test_an_api_key_given_as_the_variable_name_is_refused_without_echoing_it(tmp_path, capsys):
    assert main([*TINY, "--out", str(tmp_path / "d"), "--llm.api_key_env", "sk-live-abc123"]) == 2
    err = capsys.readouterr().err
    assert "--llm.api_key_env must be the NAME" in err and "sk-live-abc123" not in err
    assert not (tmp_path / "d").exists()


@pytest.fixture()
def copy(dataset, tmp_path):
    """A writable copy of the shared 12-movie dataset (no videos)."""
    out = tmp_path / "copy"
    shutil.copytree(dataset, out)
    assert check_dataset(out, [f"m{i:05d}" for i in range(12)]) == []
    return out


def test_truncated_jpeg_missing_frame_and_corrupt_json_are_named(copy):
    jpeg = copy / "frames" / "m00002" / "00003.jpg"
    jpeg.write_bytes(jpeg.read_bytes()[:300])
    (copy / "frames" / "m00004" / "00001.jpg").unlink()
    movie = copy / "movies" / "m00005.json"
    movie.write_text(movie.read_text()[:100])
    problems = check_dataset(copy)
    assert f"{jpeg}: truncated JPEG (no end marker)" in problems
    assert any(p.startswith(f"{copy / 'frames' / 'm00004' / '00001.jpg'}: missing") for p in problems)
    assert any(p.startswith(str(movie)) for p in problems)
    assert any("counts.movies is 12, on disk 11" in p for p in problems)  # m00005 has no readable JSON
    assert any("are about movie m00005, which has no readable movie JSON" in p for p in problems)


def test_qa_table_and_manifest_are_checked_against_the_movies(copy, capsys):
    import pyarrow.parquet as pq

    table = pq.read_table(copy / "qa" / "train-00000-of-00001.parquet")
    pq.write_table(table.slice(1), copy / "qa" / "train-00000-of-00001.parquet")  # one QA row lost
    first = table.slice(0, 1).to_pylist()[0]
    problems = check_dataset(copy)
    assert any(f"movie {first['movie_id']}: 1 QA row(s) missing, first {first['id']}" in p for p in problems)
    assert check_main(["--dataset", str(copy)]) == 1
    assert "train-00000-of-00001.parquet" in capsys.readouterr().out


def test_truncated_video_is_named(tmp_path):
    out = tmp_path / "v"
    assert main([*TINY, "--out", str(out), "--num-movies", "1", "--render.video_fps", "2"]) == 0
    assert check_dataset(out, ["m00000"]) == []
    video = out / "videos" / "m00000.mp4"
    video.write_bytes(video.read_bytes()[:-200])
    (problem,) = check_dataset(out)
    assert problem.startswith(f"{video}: truncated video")


def test_check_cli_passes_a_whole_dataset_and_has_help(dataset, capsys):
    assert check_main(["--dataset", str(dataset), "--num_movies", "12"]) == 0
    assert "ok - 12 movies" in capsys.readouterr().out
    assert check_main(["--dataset", str(dataset), "--num_movies", "13"]) == 1
    assert "m00012.json: movie m00012 is not finished" in capsys.readouterr().out
    assert "--num_movies" in subprocess.run([sys.executable, "-m", "data_gen.check", "--help"], cwd=REPO,
                                            capture_output=True, text=True, check=True).stdout
