"""Partial downloads, Video-Bench, `--judge exact_match` and the per-task protocol record, through the real
lm-eval pipeline (`eval.run.evaluate`) and `python -m eval.run` on the tiny model."""

from __future__ import annotations

import ast
import json

import pytest

from dreamframe.llm.config import LLMConfig
from dreamframe.llm.fake_server import FakeServer
from eval import runtime
from eval.judges import JudgeConfig, build_judge
from eval.leaderboard import LeaderboardConfig, build
from eval.run import evaluate, main
from eval.tasks import materialise
from eval.tasks.common import BenchmarkDataError
from eval.tasks.open_qa.loader import load_open_qa
from eval.tasks.videobench import prepare
from eval.tasks.videobench.scoring import score_videobench
from tests.eval.benchmarks import fixtures


def test_answer_prefixed_replies_score_100_on_videomme(tmp_path):
    fixtures.videomme(tmp_path, missing_one=False)
    res = evaluate(fixtures.ScriptedLM(lambda doc: f"Answer: {doc['answer']}"), materialise(["videomme"], tmp_path, tmp_path / "t"),
                   "answer-colon", bootstrap_iters=0, ctx=runtime.RunContext(out_dir=tmp_path))
    assert res["groups"]["videomme"]["acc,none"] == 100.0  # 33.3 with the old prefix list ("A" of "Answer")


def test_exact_match_judge_is_exact_match(tmp_path):
    """A constant answer scores by exact match under --judge exact_match, not by token overlap."""
    d = tmp_path / "MSVD_Zero_Shot_QA"
    answers = ["red square", "A Red Square.", "square", "red", "blue circle"]
    fixtures.write_json(d / "test_q.json", [{"video_name": "v", "question": f"q{i}?", "question_id": i} for i in range(5)])
    fixtures.write_json(d / "test_a.json", [{"answer": a, "type": 0, "question_id": i} for i, a in enumerate(answers)])
    fixtures.tiny_video(d / "videos" / "v.avi")
    mat = materialise(["msvd_qa"], tmp_path, tmp_path / "t", judge="exact_match")
    scores = {}
    for judge in ("exact_match", "auto"):
        ctx = runtime.RunContext(out_dir=tmp_path / judge, judge_name=judge)
        res = evaluate(fixtures.ScriptedLM(lambda doc: "red square"), mat, "constant", bootstrap_iters=0, ctx=ctx)
        scores[judge] = res["results"]["msvd_qa"]["accuracy,none"]
        assert ctx.judges_used["msvd_qa"].name == {"exact_match": "exact_match", "auto": "lexical-f1"}[judge]
    assert scores == {"exact_match": 20.0, "auto": 80.0}  # the old exact_match silently ran the lexical judge: 80%


def test_videobench_official_weighting(tmp_path):
    """Right only on MOT (weight 0.5 of 6.5 in its level) and Driving-exam (0.5 of 2.5): the official
    final score is (7.69 + 0 + 20) / 3."""
    fixtures.videobench(tmp_path)
    mat = materialise(["videobench"], tmp_path, tmp_path / "t")
    assert len(mat.num_docs) == 13 and not mat.missing
    right = {"MOT", "Driving-exam"}
    res = evaluate(fixtures.ScriptedLM(lambda doc: doc["answer"] if doc["dataset"] in right else "zzz"), mat, "two",
                   bootstrap_iters=0, ctx=runtime.RunContext(out_dir=tmp_path))
    g = res["groups"]
    assert g["videobench_video_exclusive"]["acc,none"] == pytest.approx(0.5 * 100 / 6.5)
    assert g["videobench_prior_knowledge"]["acc,none"] == 0.0
    assert g["videobench_decision_making"]["acc,none"] == pytest.approx(0.5 * 100 / 2.5)
    assert g["videobench"]["acc,none"] == pytest.approx((0.5 * 100 / 6.5 + 20) / 3)
    assert res["group_subtasks"]["videobench"] == ["videobench_video_exclusive", "videobench_prior_knowledge",
                                                   "videobench_decision_making"]
    assert res["results"]["videobench_msvd"]["acc,none"] == 0.0 and res["n-samples"]["videobench_msvd"]["effective"] == 2


def test_videobench_llm_judge_gets_the_three_official_turns(tmp_path, monkeypatch):
    fixtures.videobench(tmp_path, datasets=("TVQA", "MSVD"))
    rows = prepare(tmp_path / "Video-Bench", "videobench_msvd", 8, "linspace_inclusive")

    def responder(body):  # reads the official gpt_input back and names the option the reply starts with
        target = ast.literal_eval(body["messages"][1]["content"].split("target sequence:\n", 1)[1])["target sequcene"]
        return "no idea" if target.startswith("zzz") else json.dumps({"maximum probability": target[0]})

    with FakeServer(responder=responder) as srv:
        judge = build_judge(JudgeConfig(kind="llm", llm=LLMConfig(backend="openai", base_url=srv.url,
                                                                  model="gpt-3.5-turbo-0613", temperature=0.0,
                                                                  response_format="none", max_retries=0)))
        out = score_videobench(judge, [{**rows[0], "pred": f"{rows[0]['answer']} it is"}, {**rows[1], "pred": "zzz"}])
        # the two verdicts are asked concurrently: take the first clip's request, whichever came first
        (body,) = [r for r in srv.requests if "MSVD clip 0?" in r["messages"][1]["content"]]
    assert [m["role"] for m in body["messages"]] == ["system", "assistant", "user"]
    assert body["messages"][0]["content"] == "As a language expert, please complete the following task."
    assert body["messages"][2]["content"].startswith('Please output your responses in the form of a dictionary')
    assert "'question': 'What happens in MSVD clip 0? A.msvd option a 0 B.msvd option b 0 \\n Among the two" in \
        body["messages"][1]["content"]
    # every reply went to the judge (the official protocol); the unusable verdict is left out and counted
    assert out["accuracy"] == 100.0 and out["n_scored"] == 1 and out["judge_unparsable"] == 1
    assert judge.record(("videobench",))["comparable_to_published"] is False  # a local server, whatever its name


def test_videobench_files_without_answers_are_refused(tmp_path):
    base = fixtures.videobench(tmp_path, datasets=("NBA",))
    path = base / "Eval_QA" / "NBA_QA_new.json"
    data = json.loads(path.read_text())
    for item in data.values():
        del item["answer"]
    path.write_text(json.dumps(data))
    with pytest.raises(BenchmarkDataError, match=r"NBA_QA_new.json: item 'NBA_0' has no 'answer'.*487e06b"):
        prepare(base, "videobench_nba", 8, "linspace_inclusive")


def test_pllava_tgif_layout_and_missing_video_named(tmp_path):
    d = tmp_path / "DATAS" / "VideoQA" / "TGIF_QA"
    fixtures.write_json(d / "test_q.json", [{"video_name": n, "question": "q?", "question_id": i}
                                            for i, n in enumerate(["tumblr_a", "tumblr_b"])])
    fixtures.write_json(d / "test_a.json", [{"answer": "a", "type": 0, "question_id": i} for i in range(2)])
    from PIL import Image

    frames = [Image.new("RGB", (32, 32), (20 * i, 0, 0)) for i in range(6)]
    (d / "tgif_videos").mkdir()
    frames[0].save(d / "tgif_videos" / "tumblr_a.gif", save_all=True, append_images=frames[1:], duration=100)
    docs, report = load_open_qa(tmp_path, "tgif_qa")
    assert docs[0]["video"] == str(d / "tgif_videos" / "tumblr_a.gif") and report.missing_video == 1
    mat = materialise(["tgif_qa"], tmp_path, tmp_path / "t")
    assert mat.num_docs == {"tgif_qa": 1} and mat.missing["tgif_qa"]["videos"] == 1
    searched = mat.missing["tgif_qa"]["video_examples"][0]
    assert searched.startswith("tumblr_b (any of .mp4") and str(d / "tgif_videos") in searched


def test_partial_downloads_end_to_end(tmp_path, capsys):
    """`--tasks mvbench,tempcompass,videobench` on partial downloads: the run finishes, each group scores the
    sub-tasks that are there and says it is partial; the leaderboard never ranks them with complete numbers."""
    mvb = fixtures.partial_mvbench(tmp_path / "mvb")
    tc = fixtures.partial_tempcompass(tmp_path / "tc")
    vb = fixtures.videobench(tmp_path / "vb", datasets=("MSVD", "MOT", "TVQA"), missing_video="MOT")
    out = tmp_path / "out"
    argv = ["--model", "tiny-llava_onevision", "--tasks", "mvbench,tempcompass,videobench",
            "--data-dirs", json.dumps({"mvbench": str(mvb), "tempcompass": str(tc), "videobench": str(vb)}),
            "--out", str(out), "--num-frames", "2", "--max-new-tokens", "2", "--batch-size", "8", "--threads", "1",
            "--progress", "false", "--bootstrap-iters", "0"]
    assert main(argv) == 0
    assert ("partial download, mvbench: 1 question(s) skipped, 1 video(s) missing, 17 task(s) missing"
            in capsys.readouterr().err)
    res = json.loads(next((out / "tiny-llava_onevision").glob("results_*.json")).read_text())
    df, groups = res["dreamframe"], res["groups"]
    assert df["units"] == "percent" and df["format_version"] == 2
    assert groups["mvbench"]["alias"] == "mvbench (partial: 3 of 20 tasks, 1 question(s) skipped, 1 video(s) missing)"
    assert 0.0 <= groups["mvbench"]["acc,none"] <= 100.0 and res["n-samples"]["mvbench_fine_grained_pose"]["effective"] == 1
    missing = df["groups"]["mvbench"]["missing"]
    assert missing["videos"] == missing["questions"] == 1 and len(missing["tasks"]) == 17
    assert missing["tasks"]["mvbench_action_sequence"].endswith("json/action_sequence.json: annotation file not found")
    assert df["groups"]["tempcompass"]["missing"]["tasks"] == {
        "tempcompass_yes_no": f"{tc / 'questions' / 'yes_no.json'}: annotation file not found"}
    assert df["tasks"]["tempcompass_multi_choice"]["missing"]["videos"] == 1  # the _reverse video's question
    assert set(df["groups"]) >= {"videobench", "videobench_video_exclusive", "videobench_prior_knowledge"}
    assert df["groups"]["videobench_prior_knowledge"]["partial"] is True  # built from a partial download
    assert df["groups"]["videobench"]["weights"] == {"videobench_msvd": 0.5, "videobench_tvqa": 0.5}
    # per task: judge, parse rules, judge prompt hash, frames, partial flag and what was missing
    rec = df["tasks"]["tempcompass_caption_matching"]
    assert rec["judge"]["name"] == "lexical-f1" and rec["judge"]["comparable_to_published"] is False
    assert rec["parse_rule"].startswith("eval_caption_matching.py")
    assert rec["judge"]["parse_rule"].startswith("no LLM: the one option")
    assert set(rec["judge"]["prompt_sha256"]) == {"tempcompass_caption_matching"}
    assert rec["clip"]["rule"] == "linspace_inclusive" and rec["clip"]["num_frames"] == 2
    assert rec["partial"] is False and rec["missing"] is None
    mv = df["tasks"]["mvbench_fine_grained_pose"]
    assert mv["judge"]["name"] == "none" and mv["judge"]["prompt_sha256"] == {}
    assert mv["parse_rule"].startswith("mvbench.ipynb check_ans")
    assert mv["partial"] is True and mv["missing"]["video_examples"][0].endswith("nturgbd/fine_grained_pose_1.mp4")

    build(LeaderboardConfig(results=[str(out)], out=str(tmp_path / "lb"), bootstrap=50))
    import csv

    rows = list(csv.DictReader((tmp_path / "lb" / "leaderboard.csv").open()))
    ours = [r for r in rows if r["model"] == "tiny-llava_onevision" and r["task"] == "mvbench"][0]
    assert ours["board"] == "mvbench (partial)" and ours["rank"] == "1"  # alone on its board
    published = [r for r in rows if r["published"] == "True" and r["board"] == "mvbench"]
    assert published and all(r["rank"] for r in published)
    from eval.leaderboard import Entry, RankingError, rank

    full = Entry(model="a", benchmark="mvbench", task="mvbench", metric="accuracy", value=50.0)
    part = Entry(model="b", benchmark="mvbench", task="mvbench", metric="accuracy", value=60.0, partial=True)
    with pytest.raises(RankingError, match="partial download"):
        rank([full, part])
    vb_row = [r for r in rows if r["model"] == "tiny-llava_onevision" and r["task"] == "videobench"][0]
    assert vb_row["ci_low"] != "" and vb_row["board"] == "video_bench (partial)"  # weighted bootstrap reproduces it


def test_a_named_missing_sub_task_is_an_error(tmp_path, capsys):
    mvb = fixtures.partial_mvbench(tmp_path / "mvb")
    argv = ["--model", "tiny-llava_onevision", "--tasks", "mvbench_action_sequence", "--data-root", str(mvb),
            "--out", str(tmp_path / "out")]
    assert main(argv) == 2
    assert "action_sequence.json: annotation file not found" in capsys.readouterr().err


def test_ungrouped_benchmark_with_a_missing_file_runs_the_rest(tmp_path):
    base = fixtures.vcgbench(tmp_path)
    (base / "Benchmarking_QA" / "consistency_qa.json").unlink()
    mat = materialise(["vcgbench"], tmp_path, tmp_path / "t")
    assert mat.task_names == ["vcgbench_generic", "vcgbench_temporal"]
    assert mat.missing["vcgbench"]["tasks"]["vcgbench_consistency"].endswith("consistency_qa.json: annotation file not found")


def test_exact_match_leaves_captioning_unscored_and_says_so(tmp_path):
    fixtures.tempcompass(tmp_path)
    mat = materialise(["tempcompass"], tmp_path, tmp_path / "t", judge="exact_match")
    assert "tempcompass_captioning" not in mat.num_docs and len(mat.num_docs) == 3
    assert "not scored with --judge exact_match" in mat.missing["tempcompass"]["tasks"]["tempcompass_captioning"]
