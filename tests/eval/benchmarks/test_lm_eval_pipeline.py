"""The real lm-eval pipeline (eval.run.evaluate) over fixtures in each benchmark's official layout:
reference answers give 100% (5.0 for 0-5 scores), wrong answers do not, judges are recorded."""

from __future__ import annotations

import json
import math

import pytest

from eval import runtime
from eval.results import JudgeRecord
from eval.run import evaluate
from eval.tasks import materialise
from tests.eval.benchmarks import fixtures

BENCHES = ["msvd_qa", "msrvtt_qa", "tgif_qa", "activitynet_qa", "vcgbench", "tempcompass", "videomme",
           "videomme_w_subs", "videobench"]


def reference_answer(doc: dict) -> str:
    """The reference, as a model would write it."""
    if doc.get("benchmark") == "videomme":
        return f"The best answer is {doc['answer']}."
    if doc.get("benchmark") == "videobench":
        return f"{doc['answer']}. {doc['choices'][doc['answer']]}"
    if doc.get("format") == "captioning":
        return "A person is " + doc["mc_answer"].split(". ", 1)[1] + "."
    return doc["answer"]


@pytest.fixture(scope="module")
def mat(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    for make in (fixtures.open_qa, fixtures.vcgbench, fixtures.tempcompass, fixtures.videobench):
        make(root)
    fixtures.videomme(root, missing_one=False)
    return materialise(BENCHES, root, root / "tasks")


@pytest.mark.parametrize("wrong", [False, True])
def test_reference_answers_through_lm_eval(mat, tmp_path, wrong):
    ctx = runtime.RunContext(out_dir=tmp_path, judge_name="auto")
    lm = fixtures.ScriptedLM(lambda doc: "zzz" if wrong else reference_answer(doc))
    res = evaluate(lm, mat, "reference", bootstrap_iters=0, ctx=ctx)
    r = res["results"]
    for bench in ("msvd_qa", "msrvtt_qa", "tgif_qa", "activitynet_qa"):
        assert r[bench]["accuracy,none"] == (0.0 if wrong else 100.0), bench
        assert r[bench]["score,none"] == (0.0 if wrong else 5.0), bench
    for task, metric in (("vcgbench_generic", "correctness"), ("vcgbench_generic", "context"),
                         ("vcgbench_temporal", "temporal"), ("vcgbench_consistency", "consistency")):
        if wrong:  # two identical wrong answers agree with each other but not with the reference: 0
            assert r[task][f"{metric},none"] == 0.0, (task, metric)
        else:
            assert r[task][f"{metric},none"] == 5.0, (task, metric)
    for task in ("tempcompass_multi_choice", "tempcompass_yes_no", "tempcompass_caption_matching",
                 "tempcompass_captioning"):
        assert r[task]["acc,none"] == (0.0 if wrong else 100.0), task
    assert r["videomme_short"]["acc_all,none"] == (0.0 if wrong else 100.0)
    assert res["groups"]["videomme"]["acc_all,none"] == (0.0 if wrong else 100.0)
    assert "videomme_medium" not in r  # no medium items in the fixture: skipped, never averaged over zero
    # "zzz" has no A-D letter: unanswered, left out of the official accuracy (NaN), wrong in acc_all
    assert math.isnan(r["videomme_long"]["acc,none"]) if wrong else r["videomme_long"]["acc,none"] == 100.0
    assert r["videomme_long"]["acc_all,none"] == (0.0 if wrong else 100.0)
    assert not mat.missing  # the medium videos are not missing: the data has no medium questions
    for task in mat.num_docs:
        if task.startswith("videobench_"):
            assert r[task]["acc,none"] == (0.0 if wrong else 100.0), task
    for group in ("videobench", "videobench_video_exclusive", "videobench_prior_knowledge", "videobench_decision_making"):
        assert res["groups"][group]["acc,none"] == (0.0 if wrong else 100.0), group
    assert res["n-samples"]["vcgbench_consistency"]["effective"] == 4  # 2 items x (Q1, Q2)
    assert ctx.judges_used["activitynet_qa"] == JudgeRecord(
        name="lexical-f1", model=None, comparable_to_published=False, parse_rule="literal_eval_whole",
        prompt_sha256={"activitynet_qa": "2d79e6d04fc675cafef0c0bef000818c5f479d4e11b4da18cdece755b88165d9"})
    assert ctx.judges_used["videobench_mot"].parse_rule.startswith('json.loads(reply)["maximum probability"]')
    report = json.loads((tmp_path / ctx.verdicts["activitynet_qa"]).read_text())
    assert report["per_type"]["location"]["accuracy"] is None and report["judge"]["parse_rule"] == "literal_eval_whole"
    assert any(c.startswith("This video's subtitles are listed below:\nHi guys") for c in lm.contexts)
    assert any(c.endswith("\nPlease answer yes or no:") for c in lm.contexts)
