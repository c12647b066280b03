"""Loaders read each benchmark's official layout: pairing, extensions, prefixes, keys, nested dicts."""


import pytest

from eval.tasks.common import BenchmarkDataError
from eval.tasks.open_qa.loader import load_open_qa
from eval.tasks.tempcompass.loader import load_tempcompass
from eval.tasks.vcgbench.loader import load_vcgbench, occurrence_keys
from eval.tasks.videomme.loader import load_videomme, read_subtitles
from tests.eval.benchmarks import fixtures


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = tmp_path_factory.mktemp("bench")
    fixtures.open_qa(r)
    fixtures.vcgbench(r)
    fixtures.tempcompass(r)
    fixtures.videomme(r)
    return r


@pytest.mark.parametrize("name,ext", [("msvd_qa", ".avi"), ("msrvtt_qa", ".mp4"), ("tgif_qa", ".mp4"),
                                      ("activitynet_qa", ".mkv")])
def test_open_qa_layouts(root, name, ext):
    docs, report = load_open_qa(root, name)
    assert [d["question_id"].split("_")[-1] for d in docs] == ["0", "1", "2"]
    assert docs[0]["answer"] == "a red car" and docs[1]["type"] == 3
    assert docs[0]["video"].endswith(ext) and report.missing_video == 0 and report.id_mismatches == 0
    if name == "activitynet_qa":  # bare id in the json, v_ prefix and .webm on disk
        assert docs[1]["video"].endswith("v_vidB.webm") and docs[1]["type_name"] == "yes_no"
    # the benchmark folder itself (or GPT_Zero_Shot_QA) also works as --data-root
    assert len(load_open_qa(root / "GPT_Zero_Shot_QA", name)[0]) == 3


def test_open_qa_pairing_mismatch_reported_and_length_mismatch_refused(tmp_path):
    d = tmp_path / "MSVD_Zero_Shot_QA"
    fixtures.write_json(d / "test_q.json", [{"video_name": "v", "question": "q0", "question_id": 0},
                                            {"video_name": "v", "question": "q1", "question_id": 1}])
    fixtures.write_json(d / "test_a.json", [{"answer": "a1", "type": 0, "question_id": 1},
                                            {"answer": "a0", "type": 0, "question_id": 0}])
    docs, report = load_open_qa(tmp_path, "msvd_qa")
    assert report.id_mismatches == 2 and "different question_ids" in report.notes[0]
    assert docs[0]["answer"] == "a1"  # by position, like the reference scripts
    assert report.missing_video == 2 and docs[0]["video_found"] is False
    # a missing video names the file the official layout puts it at, and everywhere it was looked for
    assert docs[0]["video"] == str(d / "videos" / "v.avi")
    assert docs[0]["video_searched"].startswith("v (any of .mp4 .avi") and str(d / "YouTubeClips") in docs[0]["video_searched"]
    docs, _ = load_open_qa(tmp_path, "msvd_qa", pair_by="question_id")
    assert [d["answer"] for d in docs] == ["a0", "a1"]
    fixtures.write_json(d / "test_a.json", [{"answer": "a", "type": 0, "question_id": 0}])
    with pytest.raises(BenchmarkDataError, match="test_q.json has 2 items but test_a.json has 1"):
        load_open_qa(tmp_path, "msvd_qa")
    fixtures.write_json(d / "test_a.json", [{"answer": "a", "question_id": 0}, {"type": 1, "question_id": 1}])
    with pytest.raises(BenchmarkDataError, match=r"test_a.json: item 1 lacks field\(s\) \['answer'\]"):
        load_open_qa(tmp_path, "msvd_qa")
    with pytest.raises(BenchmarkDataError, match="no test_q.json found"):
        load_open_qa(tmp_path / "nowhere", "tgif_qa")


def test_vcgbench_occurrence_keys_keep_every_item(root):
    assert occurrence_keys(["v_a", "v_b", "v_a", "v_a"]) == ["v_a_0", "v_b_0", "v_a_1", "v_a_2"]
    docs, missing = load_vcgbench(root, "generic")
    assert [d["key"] for d in docs] == ["v_abc_0", "v_abc_1", "v_xyz_0"] and missing == 0
    assert docs[2]["video"].endswith("v_xyz.mkv")
    cons, _ = load_vcgbench(root, "consistency")
    assert [(d["key"], d["which"]) for d in cons] == [("v_abc_0", 1), ("v_abc_0", 2), ("v_abc_1", 1), ("v_abc_1", 2)]
    assert cons[1]["question"] == "Which vehicle does he use?"


def test_tempcompass_nested_formats(root):
    mc, missing = load_tempcompass(root, "multi-choice")
    assert len(mc) == 3 and missing == 0
    assert mc[0]["prompt"].endswith("\nPlease directly give the best option:") and mc[0]["fine_dim"] == "coarse-grained action"
    assert mc[2]["video"].endswith("1001_reverse.mp4")
    yn, _ = load_tempcompass(root, "yes_no")
    assert yn[1]["prompt"] == "Is the person cooking?\nPlease answer yes or no:" and yn[1]["answer"] == "no"
    cap, _ = load_tempcompass(root, "captioning")
    assert cap[0]["prompt"] == "Write a caption.\nGenerated Caption:" and cap[0]["mc_answer"] == "B. running"
    fixtures.write_json(root / "TempCompass" / "questions" / "yes_no.json", {"1001": [1, 2]})
    with pytest.raises(BenchmarkDataError, match="yes_no.json: video '1001': expected a dict of dimensions"):
        load_tempcompass(root, "yes_no")


def test_videomme_parquet_subtitles_and_missing_video(root):
    docs, missing = load_videomme(root / "Video-MME")
    assert len(docs) == 3 and missing == 1 and docs[2]["video_found"] is False
    assert docs[0]["prompt"] == ("Select the best answer to the following multiple-choice question based on the video. "
                                 "Respond with only the letter (A, B, C, or D) of the correct option.\nQuestion 0?\n"
                                 "A. one.\nB. two.\nC. three.\nD. four.\nThe best answer is:")
    subs, _ = load_videomme(root / "Video-MME", with_subtitles=True)
    assert subs[0]["prompt"].startswith("This video's subtitles are listed below:\nHi guys\nlet's cook\nSelect the best")
    assert subs[2]["prompt"].startswith("This video's subtitles are listed below:\n\nSelect")  # no .srt: empty
    assert read_subtitles(root / "Video-MME" / "subtitle" / "fFjv93ACGo8.srt") == "Hi guys\nlet's cook"
    with pytest.raises(BenchmarkDataError, match="no videomme/test-"):
        load_videomme(root / "nothing")
