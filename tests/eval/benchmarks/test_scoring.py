"""Scoring: predictions equal to references give 100%; empty groups give None, not ZeroDivisionError."""

import pytest

from eval.judges import JudgeConfig, build_judge
from eval.judges.parsing import parse_verdict
from eval.judges.scoring import summarize, summarize_by
from eval.tasks.open_qa.loader import load_open_qa
from eval.tasks.open_qa.scoring import score_open_qa
from eval.tasks.tempcompass.loader import load_tempcompass
from eval.tasks.tempcompass.scoring import rule_caption_matching, rule_multi_choice, rule_yes_no, score_tempcompass
from eval.tasks.vcgbench.loader import load_vcgbench
from eval.tasks.vcgbench.scoring import score_consistency, score_single
from eval.tasks.videomme.loader import load_videomme
from eval.tasks.videomme.scoring import extract_letter, score_videomme
from tests.eval.benchmarks import fixtures


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = tmp_path_factory.mktemp("bench")
    for make in (fixtures.open_qa, fixtures.vcgbench, fixtures.tempcompass, fixtures.videomme):
        make(r)
    return r


@pytest.fixture(scope="module")
def lexical():
    return build_judge(JudgeConfig(kind="lexical"))


def test_open_qa_perfect_predictions_score_100(root, lexical):
    docs, _ = load_open_qa(root, "activitynet_qa")
    out = score_open_qa(lexical, [{**d, "pred": d["answer"]} for d in docs], "activitynet_qa")
    assert out["accuracy"] == 100.0 and out["score"] == 5.0 and out["judge_unparsable"] == 0
    assert out["per_type"]["motion"]["accuracy"] == 100.0
    assert out["per_type"]["location"] == {"accuracy": None, "score": None, "yes": 0, "no": 0, "n": 0,
                                           "n_scored": 0, "judge_unparsable": 0}  # absent type: no division by zero
    wrong = score_open_qa(lexical, [{**d, "pred": "zebra"} for d in docs], "activitynet_qa")
    assert wrong["accuracy"] == 0.0 and wrong["score"] == 0.0


def test_summaries_follow_the_reference_arithmetic():
    vs = [parse_verdict(r) for r in ("{'pred': 'yes', 'score': 4.9}", "{'pred': 'no', 'score': 1}",
                                     "{'pred': 'maybe', 'score': 3}", "nonsense")]
    s = summarize(vs)
    assert (s["yes"], s["no"], s["accuracy"], s["n_scored"], s["judge_unparsable"]) == (1, 1, 50.0, 3, 1)
    assert s["score"] == pytest.approx((4 + 1 + 3) / 3)
    assert summarize([])["accuracy"] is None and summarize([])["score"] is None
    assert summarize_by(vs, [0, 0, 1, 1], {0: "a", 1: "b"}, all_groups=[0, 1, 2])["2"]["accuracy"] is None


def test_vcgbench_perfect_predictions_score_5(root, lexical):
    generic, _ = load_vcgbench(root, "generic")
    for dim in ("correctness", "detail", "context"):
        out = score_single(lexical, dim, [{**d, "pred": d["answer"]} for d in generic])
        assert out["score"] == 5.0 and set(out["per_item"]) == {"v_abc_0", "v_abc_1", "v_xyz_0"}
    cons, _ = load_vcgbench(root, "consistency")
    out = score_consistency(lexical, [{**d, "pred": d["answer"]} for d in cons])
    assert out["score"] == 5.0 and out["n"] == 2 and out["incomplete_pairs"] == 0
    half = score_consistency(lexical, [{**d, "pred": d["answer"]} for d in cons[:3]])
    assert half["n"] == 1 and half["incomplete_pairs"] == 1


@pytest.mark.parametrize("fmt", ["multi-choice", "yes_no", "caption_matching", "captioning"])
def test_tempcompass_perfect_predictions_score_100(root, lexical, fmt):
    docs, _ = load_tempcompass(root, fmt)
    pred = {"captioning": lambda d: "A person is running.", }.get(fmt, lambda d: d["answer"])
    out = score_tempcompass(lexical, [{**d, "pred": pred(d)} for d in docs])
    assert out["accuracy"] == 100.0 and out["judge_unparsable"] == 0
    if fmt != "captioning":
        assert out["match_rate"] == 100.0


def test_tempcompass_rules_are_the_authors():
    assert rule_multi_choice("B", "B. running") == 1 and rule_multi_choice("A. cooking", "B. running") == 0
    assert rule_multi_choice("C) sleeping", "C. sleeping") == 1 and rule_multi_choice("I think B", "B. x") is None
    assert rule_yes_no("Yes, he is.", "yes") == 1 and rule_yes_no("Maybe", "no") is None
    q = "Which caption matches the video better?\nCaption A: A person runs.\nCaption B: A person cooks."
    assert rule_caption_matching("Caption A", q, "Caption A: A person runs.") == 1
    assert rule_caption_matching("A person cooks.", q, "Caption A: A person runs.") == 0
    assert rule_caption_matching("the first one", q, "Caption A: A person runs.") is None


def test_videomme_perfect_predictions_and_official_extraction(root):
    docs, _ = load_videomme(root / "Video-MME")
    out = score_videomme([{**d, "pred": f"The best answer is {d['answer']}."} for d in docs])
    assert out["overall"] == {"acc": 100.0, "acc_all": 100.0, "unanswered": 0, "n": 3}
    assert out["per_duration"]["long"]["acc"] == 100.0
    assert extract_letter("(C) three") == "C" and extract_letter("none of these seem right to me at all, sorry about it") == ""
    # the official prefix list glues "Best answer:" to "Best option:", so "Best answer: C" yields the B of "Best"
    assert extract_letter("Best answer: C") == "B"
    half = score_videomme([{**d, "pred": p} for d, p in zip(docs, ["C", "no idea what so ever, cannot tell you sorry ok", "A"])])
    assert half["overall"]["acc_all"] == pytest.approx(100 / 3) and half["overall"]["acc"] == 50.0
    assert half["overall"]["unanswered"] == 1


def test_videomme_report_from_lm_eval_samples(root, tmp_path):
    import json

    from dreamframe.config import from_dict, load_yaml
    from eval.tasks.videomme.report import ReportConfig, main

    assert from_dict(ReportConfig, load_yaml("configs/eval/benchmarks/videomme_report.yaml")) == ReportConfig()
    docs, _ = load_videomme(root / "Video-MME")
    for task, rows in (("videomme_short", docs[:2]), ("videomme_long", docs[2:])):
        lines = [json.dumps({"doc_id": i, "doc": d, "filtered_resps": [f"({d['answer']})" if i == 0 else "zzz"]})
                 for i, d in enumerate(rows)]
        (tmp_path / f"samples_{task}_2026-01-01T00-00-00.jsonl").write_text("\n".join(lines))
    assert main(["--results", str(tmp_path)]) == 0
    out = json.loads((tmp_path / "videomme_report.json").read_text())
    assert out["overall"]["n"] == 3 and out["overall"]["acc_all"] == pytest.approx(200 / 3)
    assert out["overall"]["acc"] == 100.0 and out["overall"]["unanswered"] == 1  # "zzz": no letter, left out
    assert out["per_duration"]["short"] == {"acc": 100.0, "acc_all": 50.0, "unanswered": 1, "n": 2}
    assert out["per_task_type"]["Counting Problem"]["n"] == 3
