"""Each judge-reply parse rule on the cases of the code it reproduces (reply -> verdict, score).

- `literal_eval_whole`: PKU-YuanGroup/Video-LLaVA@984e65b `videollava/eval/video/eval_video_qa.py`: `annotate`
  keeps a reply only when `ast.literal_eval(reply)` succeeds; the scoring loop then does `count += 1`,
  `int(result[0]['score'])`, `"yes" in pred.lower()` / `"no" in pred.lower()` inside one try/except.
- `lmms_eval`: EvolvingLMMs-Lab/lmms-eval@75571cf (unchanged since 7a191d22, v0.3.0)
  `lmms_eval/tasks/activitynetqa/utils.py parse_score` + `activitynetqa_process_results`; score-only:
  `lmms_eval/tasks/videochatgpt/utils.py parse_score`.
- `lmms_eval_0_2`: lmms-eval v0.2.4 (af395ae) `activitynetqa/utils.py parse_score` + `activitynetqa_aggregate_score`.
The prompt's own example reply is {'pred': 'yes', 'score': 4.8} (evaluate_activitynet_qa.py).
"""

from __future__ import annotations

import pytest

from eval.judges.parsing import JudgeReplyError, parse_verdict
from eval.judges.scoring import summarize

EXAMPLE = "{'pred': 'yes', 'score': 4.8}"


@pytest.mark.parametrize("reply, expect", [
    # (parsed, pred, score, counted): counted = kept in the mean score's denominator
    (EXAMPLE, (True, "yes", 4, True)),  # int(4.8)
    ("{'pred': 'No', 'score': 2}", (True, "no", 2, True)),
    ("{'pred': 'yes', 'score': '4'}", (True, "yes", 4, True)),  # int('4') works
    ("{'pred': 'yes', 'score': '4.8'}", (False, None, 0, True)),  # int('4.8') raises: 0 points, out of accuracy
    ("{'pred': 'yes'}", (False, None, 0, True)),  # KeyError: kept, 0 points
    ("{'score': 3}", (False, None, 3, True)),  # score summed, then KeyError on 'pred': in neither count
    ("{'pred': 'maybe', 'score': 3}", (True, None, 3, True)),  # neither yes nor no
    ("['yes', 3]", (False, None, 0, True)),  # parses (stored), then list indices raise
    ("Here: {'pred': 'yes', 'score': 5}", (False, None, None, False)),  # never stored: re-asked until it parses
    ("", (False, None, None, False)),
])
def test_literal_eval_whole_is_video_llavas_eval_video_qa(reply, expect):
    v = parse_verdict(reply, "literal_eval_whole")
    assert (v.parsed, v.pred, v.score, v.counted) == expect


def test_literal_eval_whole_mean_keeps_malformed_verdicts_as_zero_points():
    """eval_video_qa.py: average_score = score_sum / count, count including the malformed verdicts."""
    replies = ["{'pred': 'yes', 'score': 5}", "{'pred': 'no', 'score': '4.8'}", "{'pred': 'no', 'score': 1}",
               "not a dict"]
    s = summarize([parse_verdict(r, "literal_eval_whole") for r in replies])
    assert s["score"] == pytest.approx((5 + 0 + 1) / 3) and s["accuracy"] == 50.0
    assert (s["yes"], s["no"], s["n_scored"], s["judge_unparsable"]) == (1, 1, 3, 2)


@pytest.mark.parametrize("reply, expect", [
    (EXAMPLE, ("yes", 4)),
    ("Sure! {'pred': 'no', 'score': 1} Hope it helps.", ("no", 1)),  # text between the first { and the next }
    ("{'pred': 'Yes', 'score': 5", ("yes", 5)),  # an unclosed brace is closed
    ("{'pred': 'unsure', 'score': 2}", (None, 2)),  # pred kept as is: in neither count
])
def test_lmms_eval_is_the_current_parse_score(reply, expect):
    v = parse_verdict(reply, "lmms_eval")
    assert (v.pred, v.score, v.counted, v.parsed) == (*expect, True, True)


@pytest.mark.parametrize("reply", ["no dict here", "{'pred': 'yes', 'score': '4.8'}", "{'pred': 'yes'}",
                                   "{'pred': None, 'score': 3}", ""])
def test_lmms_eval_raises_where_lmms_eval_fails(reply):
    with pytest.raises(JudgeReplyError, match="lmms-eval"):
        parse_verdict(reply, "lmms_eval")


@pytest.mark.parametrize("reply, expect", [
    (EXAMPLE, (True, "yes", 4.8)),  # float(score), summed unrounded
    ("{'pred': 'yes', 'score': '4.8'}", (True, "yes", 4.8)),
    ("{'pred': 'Yes', 'score': 5}", (True, "no", 5.0)),  # Correctness == "yes" exactly
    ("{'score': 2}", (True, "no", 2.0)),  # .get('pred', 'no')
    ("Here: {'pred': 'yes', 'score': 5}", (False, "no", 0)),  # whole reply; any failure = ["no", 0]
    ("{'pred': 'yes', 'score': 'high'}", (False, "no", 0)),
])
def test_lmms_eval_0_2_parses_the_whole_reply_with_a_no_zero_fallback(reply, expect):
    v = parse_verdict(reply, "lmms_eval_0_2")
    assert (v.parsed, v.pred, v.score, v.counted) == (*expect, True)


@pytest.mark.parametrize("rule", ["lmms_eval", "lmms_eval_0_2"])
def test_lmms_eval_score_only_prompts(rule):
    """videochatgpt/utils.py parse_score: whole reply, int(review_dict.get('score', 0)), anything else 0."""
    got = [parse_verdict(r, rule, need_pred=False) for r in ("{'score': 4.8}", "{'pred': 'x'}", "Score: {'score': 5}")]
    assert [(v.score, v.parsed, v.counted) for v in got] == [(4, True, True), (0, True, True), (0, False, True)]


def test_first_braces_is_this_projects_lenient_rule():
    assert (parse_verdict("Here: {'pred': 'yes', 'score': '4.8'} ok", "first_braces").score) == 4
    v = parse_verdict("no dict", "first_braces")
    assert (v.parsed, v.pred, v.score, v.counted) == (False, "no", 0, True)
