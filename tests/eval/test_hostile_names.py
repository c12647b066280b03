"""Names and texts from users and benchmark files that eval turns into paths or prompts (issue 27, problems 7,
8 and 11): an unusable `--name` is refused at parse time naming the option, before any model loads; a
benchmark row with a video name no file system can hold, one leading outside its folder, or a question
far too long is skipped and counted by id - the rest of the benchmark is scored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.run import main
from eval.tasks import materialise
from tests.eval.conftest import write_mvbench
from tests.eval.benchmarks.fixtures import open_qa, tiny_video

LONG_QUESTION = "why does the " + "very " * 2000 + "red car stop?"  # 10,026 characters, over 2,000 tokens


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "x" * 10_000, "é" * 128],
                         ids=["dotdot", "slash", "hidden", "10000-characters", "256-bytes"])
def test_an_unusable_name_is_refused_at_parse_time_before_any_model_loads(tmp_path, name, capsys):
    """The model path does not exist: had the model been built first, the error would be about it. The old
    code ran `--name ../x` to the end into a hidden folder the leaderboard skips, and crashed on a 10,000-
    character name with "File name too long" after the model had loaded."""
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["--model", str(tmp_path / "no-such-model"), "--name", name, "--tasks", "dreamframe_heldout",
              "--out", str(out)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    message = err.strip().splitlines()[-1]
    assert message.startswith("error: --name") and "no-such-model" not in err
    assert len(message) < 400, "a long name is shortened in the message"
    assert not out.exists()


def test_a_name_from_a_config_file_is_checked_the_same_way(tmp_path, capsys):
    config = tmp_path / "eval.yaml"
    config.write_text('name: "tiny\\0model"\n')  # a NUL only a YAML file can carry
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(config), "--model", str(tmp_path / "no-such-model"), "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2 and "--name" in capsys.readouterr().err


def _hostile_msvd(root: Path) -> Path:
    """MSVD-QA with five questions: a 300-byte video name, a 10,000-character question, a video name leading
    to a real video outside the benchmark folder, a NUL in a video name, and one good question."""
    base = open_qa(root)
    tiny_video(root / "secret.avi")
    folder = base / "MSVD_Zero_Shot_QA"
    names = ["v" * 300, "vidA", "../../../secret", "vid\u0000A", "vidB"]
    questions = [{"video_name": n, "question": LONG_QUESTION if i == 1 else f"what is in {i}?",
                  "question_id": f"q{i}"} for i, n in enumerate(names)]
    (folder / "test_q.json").write_text(json.dumps(questions))
    (folder / "test_a.json").write_text(json.dumps([{"answer": "a car", "type": 0, "question_id": f"q{i}"}
                                                    for i in range(len(names))]))
    return root


def test_benchmark_rows_that_cannot_be_scored_safely_are_skipped_and_counted(tmp_path):
    """The old code aborted the whole benchmark on the 300-byte name (OSError: File name too long)."""
    mat = materialise(["msvd_qa"], _hostile_msvd(tmp_path / "bench"), tmp_path / "tasks", max_question_chars=4000)
    assert mat.num_docs["msvd_qa"] == 1
    skipped = mat.skipped_items["msvd_qa"]
    assert skipped["counts"] == {"video_name_unusable": 2, "question_too_long": 1, "video_outside_folder": 1}
    by_id = {e.split(" item ")[1].split(":")[0]: e for e in skipped["examples"]}
    assert set(by_id) == {"q0", "q1", "q2", "q3"}
    assert "304 bytes" in by_id["q0"] and len(by_id["q0"]) < 300 and "NUL" in by_id["q3"] and "outside the benchmark folder" in by_id["q2"]
    assert f"{len(LONG_QUESTION)} characters > --max_question_chars 4000" in by_id["q1"] and len(by_id["q1"]) < 300
    rows = [json.loads(line) for line in (tmp_path / "tasks/data/msvd_qa.jsonl").open()]
    assert [r["question_id"] for r in rows] == ["q4"]


def test_one_very_long_question_does_not_abort_the_eval(tmp_path, capsys):
    """The old code stopped the whole eval with "sample '0' is 2,300 tokens > model.max_length=2048": a
    batch position, not the question. Now the question is skipped (named: benchmark task and id), counted in
    the results, and the other questions are scored."""
    root = write_mvbench(tmp_path / "bench", per_task=3, tasks=["action_sequence"])
    path = root / "json" / "action_sequence.json"
    items = json.loads(path.read_text())
    items[1]["question"] = LONG_QUESTION
    path.write_text(json.dumps(items))
    out = tmp_path / "out"
    assert main(["--model", "tiny-llava_onevision", "--tasks", "mvbench_action_sequence", "--data-root",
                 str(tmp_path / "bench"), "--out", str(out), "--batch-size", "3", "--max-new-tokens", "2",
                 "--num-frames", "2", "--threads", "1", "--progress", "false", "--bootstrap-iters", "0"]) == 0
    err = capsys.readouterr().err
    assert f"mvbench_action_sequence item mvbench_action_sequence_1: question of {len(LONG_QUESTION)} characters" in err
    (results,) = (out / "tiny-llava_onevision").glob("results_*.json")
    df = json.loads(results.read_text())["dreamframe"]
    assert df["skipped_items"]["mvbench_action_sequence"]["counts"] == {"question_too_long": 1}
    assert df["tasks"]["mvbench_action_sequence"]["num_docs"] == 2 and df["config"]["max_question_chars"] == 4000
