"""Leaderboard aggregation, confidence intervals, deltas, published rows and the refusal to rank
numbers measured under different judges, on result folders in the shared eval results contract."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from dreamframe.config import from_dict, load_yaml
from eval.leaderboard import (LeaderboardConfig, LeaderboardError, RankingError, benchmark_of, build,
                              load_published, main, rank, ranked_groups)
from eval.stats import bootstrap_ci
from tests.eval.fixtures import MVBENCH_TASKS, make_demo, write_results

REPO = Path(__file__).resolve().parents[2]


def rows_of(out: Path) -> list[dict]:
    with (out / "leaderboard.csv").open() as fh:
        return list(csv.DictReader(fh))


def pick(rows, **kw):
    return [r for r in rows if all(r[k] == v for k, v in kw.items())]


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    res = make_demo(tmp_path_factory.mktemp("res"))
    out = tmp_path_factory.mktemp("lb")
    summary = build(LeaderboardConfig(results=[str(res)], out=str(out), bootstrap=300))
    return res, out, summary, rows_of(out)


def test_group_number_is_the_mean_of_its_subtasks_and_in_percent(board):
    res, _, _, rows = board
    for model in ("tiny-llava-base", "tiny-llava-dreamframe", "tiny-qwen2vl"):
        subs = pick(rows, model=model, subtask_of="mvbench")
        assert len(subs) == len(MVBENCH_TASKS)
        head = pick(rows, model=model, task="mvbench", metric="accuracy")[0]
        assert float(head["value"]) == pytest.approx(np.mean([float(r["value"]) for r in subs]), abs=1e-3)
        assert 0 <= float(head["value"]) <= 100 and head["judge"] == "none"
        assert head["frames"] == "segment_centre x16" and head["n"] == str(20 * len(MVBENCH_TASKS))
        raw = json.loads(next((res / model).glob("results_*.json")).read_text())
        assert float(head["value"]) == pytest.approx(raw["results"]["mvbench"]["acc,none"], abs=1e-3)


def test_confidence_interval_comes_from_the_per_sample_log(board):
    res, _, _, rows = board
    row = pick(rows, model="tiny-llava-base", task="dreamframe_heldout")[0]
    samples = [json.loads(line)["acc"] for line in
               next((res / "tiny-llava-base").glob("samples_dreamframe_heldout_*.jsonl")).read_text().splitlines()]
    lo, hi = bootstrap_ci([samples], n_boot=300, seed=0)
    assert (float(row["ci_low"]), float(row["ci_high"])) == pytest.approx((lo, hi), abs=1e-3)
    assert lo < float(row["value"]) < hi
    for r in pick(rows, published="True"):
        assert r["ci_low"] == "" and r["source"] and r["url"].startswith("https://arxiv.org/")


def test_numbers_under_different_judges_are_never_ranked_together(board):
    _, out, _, rows = board
    msvd = pick(rows, benchmark="msvd_qa", metric="accuracy")
    by_judge = {}
    for r in msvd:
        by_judge.setdefault(r["judge_group"], []).append(r)
    assert len(by_judge) == 3  # two of ours (judge A, judge B) + the published protocol
    for group in by_judge.values():  # ranks restart at 1 inside every judge group
        assert sorted(int(r["rank"]) for r in group)[0] == 1
    # tiny-qwen2vl is the only model under its judge, so it ranks 1 whatever its score
    assert pick(msvd, model="tiny-qwen2vl")[0]["rank"] == "1"
    md = (out / "leaderboard.md").read_text()
    ranked_sections = [sec for sec in md.split("\n## ")[1:] if " - judge: " in sec.splitlines()[0]]
    assert len(ranked_sections) >= 10
    for section in ranked_sections:  # every ranked table holds exactly one judge, the one in its title
        header_judge = section.splitlines()[0].split(" - judge: ")[1]
        cells = [line.split(" | ") for line in section.splitlines()[4:] if line.startswith("| ")]
        assert cells and all(c[5] != "none" for c in cells) == (header_judge != "none"), section
        assert len({c[5] for c in cells}) == 1, section


def test_rank_refuses_mixed_judges_and_metrics():
    from eval.leaderboard import Entry

    a = Entry(model="a", benchmark="msvd_qa", task="msvd_qa", metric="accuracy", value=50, judge_key="judge-a")
    b = Entry(model="b", benchmark="msvd_qa", task="msvd_qa", metric="accuracy", value=60, judge_key="judge-b")
    c = Entry(model="c", benchmark="msvd_qa", task="msvd_qa", metric="score", value=3, judge_key="judge-a")
    with pytest.raises(RankingError, match="different judges"):
        rank([a, b])
    with pytest.raises(RankingError, match="tasks/metrics"):
        rank([a, c])
    d = Entry(model="d", benchmark="msvd_qa", task="msvd_qa", metric="accuracy", value=50, judge_key="judge-a")
    assert [(r, e.model) for r, e in rank([a, d, b.__class__(**{**b.__dict__, "judge_key": "judge-a"})])] == \
        [(1, "b"), (2, "a"), (2, "d")]
    assert len(ranked_groups([a, b, c, d])) == 3


def test_comparable_judge_is_ranked_with_the_published_rows(tmp_path):
    acc = [1.0, 0.0, 1.0, 1.0]
    write_results(tmp_path / "res", "pinned", {"msvd_qa": {"accuracy": acc, "score": [4.0, 1.0, 5.0, 3.0]}},
                  judge={"name": "gpt-judge", "model": "gpt-3.5-turbo-0125", "comparable_to_published": True})
    build(LeaderboardConfig(results=[str(tmp_path / "res")], out=str(tmp_path / "lb"), bootstrap=50))
    rows = pick(rows_of(tmp_path / "lb"), benchmark="msvd_qa", metric="accuracy")
    assert len({r["judge_group"] for r in rows}) == 1 and len(rows) == 5
    ours = pick(rows, model="pinned")[0]
    assert ours["rank"] == "1" and ours["judge"] == "gpt-judge (gpt-3.5-turbo-0125)"  # 75.0 beats 70.7


def test_fine_tune_deltas_are_paired_differences(board):
    _, out, summary, rows = board
    md = (out / "leaderboard.md").read_text()
    base = float(pick(rows, model="tiny-llava-base", task="mvbench")[0]["value"])
    ft = float(pick(rows, model="tiny-llava-dreamframe", task="mvbench")[0]["value"])
    line = next(x for x in md.splitlines() if x.startswith("| tiny-llava-dreamframe | tiny-llava-base | MVBench"))
    assert f"{ft - base:+.1f}" in line and "[" in line  # with a bootstrap interval
    # published gains sit in their own section, after ours, never in one table with them
    ours, published = md.split("## Ours: ")[1], md.split("## Published: ")[1]
    assert "| VideoChatGPT-7B + DreamFrame data | VideoChatGPT-7B | MVBench | accuracy | none | +3.1 |" in published
    assert "VideoChatGPT" not in ours.split("## Published: ")[0] and md.index("## Ours: ") < md.index("## Published: ")
    assert summary["deltas"] == 4 + 9  # ours: mvbench, msvd acc+score, held-out; published: 3 pairs x 3


def test_controls_stand_beside_the_models_and_the_blind_one_gets_a_delta(tmp_path):
    """A held-out summary's chance and majority rows join the closed held-out board as controls; its
    blind model is marked a control, and the fine-tune gets a delta against it as well as its base."""
    res = tmp_path / "res"
    rng = np.random.default_rng(0)
    for model, p, base in (("tiny-base", 0.0, None), ("tiny-blind", 0.3, "tiny-base"), ("tiny-tuned", 0.6, "tiny-base")):
        write_results(res, model, {"dreamframe_heldout_closed": {"acc": list((rng.random(200) < p).astype(float))}},
                      base_model=base, frames=("segment_centre", 4), fingerprint=model)
    summary = {"models": {"base": "tiny-base", "blind": "tiny-blind", "tuned": "tiny-tuned"},
               "heldout_closed": {"chance": {"acc": 27.5, "per_type": {"count": {"acc": 33.33}}},
                                  "majority": {"acc": 29.0, "acc_ci": [25.0, 33.5],
                                               "per_type": {"count": {"acc": 35.0, "acc_ci": [28.0, 42.0]}}},
                                  "tuned": {"acc": 60.0, "acc_ci": [53.0, 66.0],
                                            "per_type": {"count": {"acc": 71.0, "acc_ci": [60.0, 80.0]}}}}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    out = tmp_path / "lb"
    built = build(LeaderboardConfig(results=[str(res)], out=str(out), bootstrap=200, published="none",
                                    controls=str(tmp_path / "summary.json")))
    rows = rows_of(out)
    board = {r["model"]: r for r in rows if r["task"] == "dreamframe_heldout_closed"}
    assert set(board) == {"tiny-base", "tiny-blind", "tiny-tuned", "chance (control)", "majority (control)"}
    assert float(board["chance (control)"]["value"]) == 27.5 and board["majority (control)"]["ci_low"] == "25.0"
    md = (out / "leaderboard.md").read_text()
    assert "tiny-blind *(control: same model and training, frames of other movies)*" in md
    assert "| tiny-tuned | tiny-blind (control) |" in md and "| tiny-tuned | tiny-base |" in md
    assert "| tiny-blind | tiny-base |" not in md  # a control is compared with, not compared
    assert built["deltas"] == 2
    assert "| count | 33.3 | 35.0 [28.0, 42.0] | 71.0 [60.0, 80.0] |" in md  # per-type table beside the controls
    html = (out / "index.html").read_text()
    assert 'class="badge control"' in html and "per-type" in html


def test_latest_results_file_wins_and_same_name_different_weights_split(tmp_path):
    res = tmp_path / "res"
    write_results(res, "m", {"dreamframe_heldout": {"acc": [0.0, 0.0, 1.0, 0.0]}}, stamp="2026-01-01T00-00-00")
    write_results(res, "m", {"dreamframe_heldout": {"acc": [1.0, 1.0, 1.0, 0.0]}}, stamp="2026-02-01T00-00-00")
    write_results(tmp_path / "res2", "m", {"dreamframe_heldout": {"acc": [1.0, 0.0]}}, fingerprint="other-weights")
    build(LeaderboardConfig(results=[str(res), str(tmp_path / "res2")], out=str(tmp_path / "lb"), published="none",
                            bootstrap=20))
    rows = rows_of(tmp_path / "lb")
    assert sorted(r["model"] for r in rows) == ["m [fp-m]", "m [other-we]"]
    assert float(pick(rows, model="m [fp-m]")[0]["value"]) == 75.0


def test_missing_samples_give_no_interval_but_still_a_number(tmp_path):
    write_results(tmp_path / "res", "m", {"mvbench_action_count": {"acc": [1.0, 0.0]}}, write_samples=False)
    build(LeaderboardConfig(results=[str(tmp_path / "res")], out=str(tmp_path / "lb"), published="none"))
    row = rows_of(tmp_path / "lb")[0]
    assert row["value"] == "50.0" and row["ci_low"] == ""


def test_bad_input_names_the_file_and_field(tmp_path, capsys):
    path = write_results(tmp_path / "res", "m", {"dreamframe_heldout": {"acc": [1.0]}})
    data = json.loads(path.read_text())
    del data["dreamframe"]["model"]
    path.write_text(json.dumps(data))
    with pytest.raises(LeaderboardError, match=r"results_.*\.json: dreamframe.model is missing"):
        build(LeaderboardConfig(results=[str(tmp_path / "res")], out=str(tmp_path / "lb")))
    data = json.loads(path.read_text())
    data["dreamframe"]["model"] = "m"
    data["dreamframe"]["tasks"]["dreamframe_heldout"]["clip"]["num_frames"] = "eight"
    path.write_text(json.dumps(data))
    with pytest.raises(LeaderboardError, match=r"dreamframe.tasks.dreamframe_heldout.clip.num_frames: expected int"):
        build(LeaderboardConfig(results=[str(tmp_path / "res")], out=str(tmp_path / "lb")))
    path.write_text("{not json")
    assert main([str(tmp_path / "res"), "--out", str(tmp_path / "lb")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    with pytest.raises(LeaderboardError, match="no results_"):
        build(LeaderboardConfig(results=[str(tmp_path / "empty")], out=str(tmp_path / "lb")))
    bad = tmp_path / "pub.yaml"
    bad.write_text("sources: {s: {citation: x}}\nrows: [{model: a, source: s, values: {nobench: 1}}]\n")
    with pytest.raises(LeaderboardError, match=r"rows\[0\]: unknown benchmark 'nobench'"):
        load_published(str(bad))
    assert not (tmp_path / "lb").exists()


def test_cli_positional_dirs_and_config_file(tmp_path, board):
    res, _, _, _ = board
    out = tmp_path / "lb"
    assert main(["--config", str(REPO / "configs/reports/leaderboard.yaml"), str(res), "--out", str(out),
                 "--bootstrap", "10"]) == 0
    assert {p.name for p in out.iterdir()} == {"leaderboard.md", "leaderboard.csv", "index.html"}


def test_yaml_config_equals_dataclass_defaults():
    assert from_dict(LeaderboardConfig, load_yaml(REPO / "configs/reports/leaderboard.yaml")) == LeaderboardConfig()


def test_task_names_map_to_benchmarks():
    _, benchmarks = load_published("builtin")
    assert benchmark_of("mvbench_action_count", benchmarks) == "mvbench"
    assert benchmark_of("MSVD-QA", benchmarks) == "msvd_qa"
    assert benchmark_of("activitynet_qa_gpt35", benchmarks) == "activitynet_qa"
    assert benchmark_of("dreamframe_heldout", benchmarks) == "dreamframe_heldout"
    assert benchmark_of("something_else", benchmarks) is None


def test_reads_real_eval_run_output(tmp_path):
    """A results folder written by `python -m eval.run` (D1's writer), with per-task judges and frames:
    the held-out group mixes closed questions (no judge) and open ones (lexical judge)."""
    build(LeaderboardConfig(results=[str(REPO / "tests/eval/data/eval_run_tiny")], out=str(tmp_path),
                            published="none", bootstrap=50))
    rows = rows_of(tmp_path)
    group = pick(rows, task="dreamframe_heldout")[0]
    assert group["judge"] == "lexical" and group["frames"] == "segment_centre x8" and group["n"] == "18"
    assert group["rank"] == "1" and group["ci_low"] != "" and group["model"] == "tiny-llava_onevision"
    closed = pick(rows, task="dreamframe_heldout_closed")[0]
    assert closed["judge"] == "none" and closed["subtask_of"] == "dreamframe_heldout" and closed["n"] == "12"
    assert pick(rows, task="dreamframe_heldout_open")[0]["judge"] == "lexical"


def test_judged_task_intervals_come_from_the_judge_report(tmp_path):
    """Open-ended QA is judged in the aggregation (per-sample log values are dicts); the per-item
    verdicts in the file the task's record names (`verdicts`) give the interval, and only if they reproduce
    the number; a verdicts file the record does not name is not read (no path convention)."""
    judge = {"name": "llm-judge", "model": "judge-a", "comparable_to_published": False}
    path = write_results(tmp_path / "res", "m", {"msvd_qa": {"accuracy": [0.0] * 10, "score": [0.0] * 10}},
                         judge=judge, write_samples=False)
    data = json.loads(path.read_text())
    data["results"]["msvd_qa"].update({"accuracy,none": 60.0, "score,none": 3.1})
    path.write_text(json.dumps(data))
    with (path.parent / f"samples_msvd_qa_{path.stem[8:]}.jsonl").open("w") as fh:
        for i in range(10):
            fh.write(json.dumps({"doc_id": i, "filter": "none", "accuracy": {"pred": "x"}, "score": {"pred": "x"}}) + "\n")
    per_item = {str(i): {"pred": "yes" if i < 6 else "no", "score": 4 if i < 6 else 2, "counted": True} for i in range(10)}
    per_item["99"] = {"pred": None, "score": None, "counted": False}  # unparsable: not in the number either
    (path.parent / "judge_reports").mkdir()
    report = path.parent / "judge_reports" / "msvd_qa.json"
    report.write_text(json.dumps({"per_item": per_item}))
    build(LeaderboardConfig(results=[str(tmp_path / "res")], out=str(tmp_path / "lb"), published="none", bootstrap=20))
    assert pick(rows_of(tmp_path / "lb"), metric="accuracy")[0]["ci_low"] == ""  # not named by the record
    data["dreamframe"]["tasks"]["msvd_qa"]["verdicts"] = "judge_reports/msvd_qa.json"
    path.write_text(json.dumps(data))
    build(LeaderboardConfig(results=[str(tmp_path / "res")], out=str(tmp_path / "lb"), published="none", bootstrap=200))
    rows = rows_of(tmp_path / "lb")
    acc, score = pick(rows, metric="accuracy")[0], pick(rows, metric="score")[0]
    assert acc["value"] == "60.0" and acc["n"] == "10" and float(acc["ci_low"]) < 60 < float(acc["ci_high"])
    assert score["ci_low"] == ""  # mean of the item scores is 3.2, not the reported 3.1: no interval
    per_item["0"]["pred"] = "no"  # a stale report no longer reproduces 60.0
    report.write_text(json.dumps({"per_item": per_item}))
    build(LeaderboardConfig(results=[str(tmp_path / "res")], out=str(tmp_path / "lb"), published="none", bootstrap=20))
    assert pick(rows_of(tmp_path / "lb"), metric="accuracy")[0]["ci_low"] == ""
