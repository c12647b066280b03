import json
from collections import Counter, defaultdict

import pyarrow.parquet as pq
import pytest
import yaml

from dreamframe.jsonl import read_jsonl
from launch.pipeline import PipelineConfig, main, write_train_configs
from tests.conftest import REPO


def test_train_configs_point_at_the_runs_dataset_and_the_controls_change_only_how_frames_are_handed(tmp_path):
    cfg = PipelineConfig(out=str(tmp_path / "run"), train_config=str(REPO / "configs/train/tiny_cpu.yaml"))
    paths = write_train_configs(cfg)
    data, blind = yaml.safe_load(paths["tuned"].read_text()), yaml.safe_load(paths["blind"].read_text())
    order_blind = yaml.safe_load(paths["order_blind"].read_text())
    assert paths["base"] == paths["tuned"]  # the untrained model: the fine-tune's config, 0 steps
    original = yaml.safe_load((REPO / "configs/train/tiny_cpu.yaml").read_text())
    # every source of the YAML's dataset (a curriculum lists it twice) now reads the run's
    assert len(data["data"]["sources"]) == len(original["data"]["sources"])
    for source, before in zip(data["data"]["sources"], original["data"]["sources"]):
        assert source["path"] == str(tmp_path / "run" / "data")
        assert (source.get("qa_types"), source["weight"]) == (before.get("qa_types"), before["weight"])
    assert data["model"]["tiny"]["corpus"] == [str(tmp_path / "run" / "data")]
    assert data["data"]["generate_config"] is None and data["eval"]["enabled"] is False
    # the blind control differs only in where its frames come from, the order-blind one only in handing each
    # clip's frames as a set; the fine-tune keeps each source's own (tiny_cpu.yaml shuffles the order of the
    # still types' clips)
    for blind_source, source, before in zip(blind["data"]["sources"], data["data"]["sources"],
                                            original["data"]["sources"]):
        assert blind_source.pop("frames") == "shuffled"
        assert source["frames"] == before["frames"]
    assert {s["frames"] for s in original["data"]["sources"]} == {"matched", "order_shuffled"}
    assert (data["model"]["frame_order"], order_blind["model"]["frame_order"]) == ("time", "content")
    order_blind["model"]["frame_order"] = "time"
    assert order_blind == data
    for s in data["data"]["sources"]:
        s.pop("frames")
    assert blind == data


def test_stages_run_then_skip_when_their_output_exists(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--config", str(REPO / "configs/pipeline/demo_cpu.yaml"), "--out", str(out),
            "--data_config", str(REPO / "configs/data_gen/tiny.yaml"), "--data_args", "[--num-movies, '3']",
            "--stages", "data,report"]
    assert main(args) == 0
    assert (out / "data" / "manifest.json").exists() and (out / "report" / "index.html").exists()
    assert (out / "logs" / "data.log").read_text().strip()
    capsys.readouterr()
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "[data] done already" in printed and "[report] done already" in printed


def test_unknown_stage_is_a_clear_error(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--stages", "data,trian"]) == 1
    assert "trian" in capsys.readouterr().err


def _closed_rows(path):
    return [r for r in pq.read_table(path).to_pylist() if r["options"]]


def _majority(train, row):
    counts = Counter(r["answer"] for r in train if r["qa_type"] == row["qa_type"])
    return max(row["options"], key=lambda o: (counts[o], -row["options"].index(o)))


def _check_models(table, test):
    """Every model scored every closed question of the set, with intervals, per type; chance and majority
    recomputed here from the dataset's tables (majority: the training data's train split)."""
    types = {r["qa_type"] for r in test}
    assert set(table) == {"chance", "majority", "base", "blind", "order_blind", "tuned"}
    for role in ("base", "blind", "order_blind", "tuned"):
        block = table[role]
        assert block["n"] == len(test) and set(block["per_type"]) == types
        for key in ("acc", "free_acc"):
            lo, hi = block[f"{key}_ci"]
            assert 0 <= lo <= block[key] <= hi <= 100
        for t, per in block["per_type"].items():
            assert {"acc", "acc_ci", "free_acc", "n"} <= set(per) and per["n"] == sum(r["qa_type"] == t for r in test)
    assert table["chance"]["acc"] == pytest.approx(100 * sum(1 / len(r["options"]) for r in test) / len(test), abs=0.01)
    assert set(table["majority"]["per_type"]) == set(table["chance"]["per_type"]) == types


def _temporal_twin_scores(folder):
    """Per temporal minimal pair of the held-out closed log: each twin's {option: log-likelihood}."""
    by_pair = defaultdict(list)
    for path in folder.glob("samples_dreamframe_heldout_closed_*.jsonl"):
        for _, row in read_jsonl(path):
            if row["doc"]["qa_type"] == "temporal" and row["doc"].get("pair_id"):
                scores = dict(zip(row["doc"]["options"], (float(r[0]) for r in row["filtered_resps"])))
                by_pair[row["doc"]["pair_id"]].append(scores)
    return [tuple(v) for v in by_pair.values() if len(v) == 2]


@pytest.mark.slow
def test_every_stage_on_a_tiny_run_writes_the_summary_with_its_controls(tiny_pipeline, capsys):
    out, printed = tiny_pipeline.out, tiny_pipeline.printed  # the session's run (tests/conftest.py)
    assert "tuned - blind" in printed and "[train_order_blind] finished" in printed and "CPU-s" in printed
    summary = json.loads((out / "summary.json").read_text())
    train = _closed_rows(out / "data" / "qa" / "train-00000-of-00001.parquet")
    for section, data in (("heldout_closed", "data"), ("heldout_shift", "data_shift")):
        test = _closed_rows(out / data / "qa" / "test-00000-of-00001.parquet")
        _check_models(summary[section], test)
        hits = [_majority(train, r) == r["answer"] for r in test]
        assert summary[section]["majority"]["acc"] == pytest.approx(100 * sum(hits) / len(hits), abs=0.01)
    for key in ("verdict", "verdict_shift"):
        assert {"acc_minus_blind", "learned_types", "constant_answer_types", "above_order_blind_types",
                "pair_learned_types"} <= set(summary[key])
    # the blind and order-blind twins are their own models
    fingerprints = {json.loads(f.read_text())["dreamframe"]["model_fingerprint"]
                    for f in (out / "eval").glob("*/results_*.json")}
    assert len(fingerprints) == 4
    timings = json.loads((out / "pipeline_timings.json").read_text())
    assert timings["train_order_blind"]["cpu_s"] > 1 and all(t["cpu_s"] > 0 for t in timings.values())
    board = (out / "leaderboard" / "leaderboard.md").read_text()
    assert "chance (control)" in board and "majority (control)" in board and "tiny-blind *(control" in board
    # the leaderboard opens with this run's own result: the tuned-vs-blind headline before any other table
    assert board.index("## This run: models beside their controls") < board.index("## Our models")
    assert "tuned " in board and " vs blind " in board.split("## Our models")[0]
    assert "tiny-order-blind *(control" in board and "### held-out shift" in board and "temporal, pair_acc" in board
    assert (out / "summary.txt").read_text().startswith("held-out closed acc")
    # eval hands the order-blind model each clip as a set: a temporal pair's twins (the same frames reversed)
    # are one input to it - the same log-likelihood per option - while the tuned model sees two orders
    twins = {role: _temporal_twin_scores(out / "eval" / name) for role, name in
             (("order_blind", "tiny-order-blind"), ("tuned", "tiny-dreamframe"))}
    assert twins["order_blind"] and all(a == b for a, b in twins["order_blind"])
    assert any(a != b for a, b in twins["tuned"])
    # the same command again: every stage it lists is done already
    assert main([*tiny_pipeline.options, "--out", str(out)]) == 0
    again = capsys.readouterr().out
    stages = yaml.safe_load((REPO / "configs/pipeline/demo_cpu.yaml").read_text())["stages"].split(",")
    assert again.count("done already") == len(stages)
