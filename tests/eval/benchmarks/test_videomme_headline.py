"""Video-MME's headline is the official figure: accuracy over answered questions, pooled over the whole
dataset, as thanku-all/parse_answer `eval_your_results.py` (the script BradyFU/Video-MME's README links)
prints it - with the all-question accuracy and the unanswered count beside it (issue 23)."""

from __future__ import annotations

import json

import pytest

from eval import runtime
from eval.leaderboard import LeaderboardConfig, build
from eval.run import evaluate
from eval.tasks import materialise
from eval.tasks.videomme.loader import load_videomme
from eval.tasks.videomme.scoring import score_videomme
from tests.eval.benchmarks import fixtures

UNANSWERED = "i do not know which one of these it could be, sorry about that"  # >10 words, no A-D: ""


def _reply(doc: dict) -> str:
    """short: one right ("C"), one with no letter; long: one wrong."""
    return {"C": "The best answer is C.", "A": UNANSWERED, "D": "A"}[doc["answer"]]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    fixtures.videomme(root, missing_one=False)
    mat = materialise(["videomme"], root, root / "tasks")
    ctx = runtime.RunContext(out_dir=root, judge_name="auto")
    return root, evaluate(fixtures.ScriptedLM(_reply), mat, "m", bootstrap_iters=0, ctx=ctx)


def test_group_headline_is_the_official_answered_only_accuracy(results):
    root, res = results
    docs, _ = load_videomme(root / "Video-MME")
    official = score_videomme([{**d, "pred": _reply(d)} for d in docs])["overall"]
    group = res["groups"]["videomme"]
    # the official script: 1 right of 2 answered = 50.0 (lm-eval's size-weighted mean of the durations' own
    # answered-only accuracies would say 66.7, the all-question accuracy 33.3)
    assert official["acc"] == 50.0 and group["acc,none"] == pytest.approx(official["acc"])
    assert group["acc_all,none"] == pytest.approx(100 / 3) == pytest.approx(official["acc_all"])
    assert group["unanswered,none"] == official["unanswered"] == 1
    assert res["results"]["videomme_short"]["acc,none"] == 100.0 and res["results"]["videomme_short"]["unanswered,none"] == 1


def test_leaderboard_shows_the_official_headline_with_all_questions_beside(results, tmp_path):
    _, res = results
    folder = tmp_path / "res" / "m"
    folder.mkdir(parents=True)
    keep = {k: res[k] for k in ("results", "groups", "group_subtasks", "configs", "versions", "n-samples")}
    (folder / "results_2026-01-01T00-00-00.json").write_text(json.dumps({**keep, "model_name": "m", "lm_eval_version": "0.4.13"}, default=str))
    build(LeaderboardConfig(results=[str(tmp_path / "res")], out=str(tmp_path / "lb"), bootstrap=0, published="none"))
    md = (tmp_path / "lb" / "leaderboard.md").read_text()
    assert "| 1 | m | 50.0 (all questions: 33.3; 1 unanswered) |" in md
    assert "acc_all" not in md and "unanswered -" not in md  # no board of their own
    assert "all questions: 33.3; 1 unanswered" in (tmp_path / "lb" / "index.html").read_text()
