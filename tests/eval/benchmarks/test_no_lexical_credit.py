"""Multiple-choice replies are never credited for sharing words with the right answer (issue 23).

An independent review found the default judge (`auto` = lexical) rating wrong option texts ("from right
to left" for "B. from left to right") and reversed captions right through token F1. The official
scripts (TempCompass `eval_<format>.py` + ChatGPT, or `--disable_llm`) never credit them: here a reply
no rule matches is matched to the one option it names, else it scores 0 and is counted unmatched.
"""

from __future__ import annotations

import json

import pytest

from eval.judges import JudgeConfig, build_judge
from eval.judges.lexical import lexical_reply
from eval.judges.named_option import named_option
from eval.tasks.tempcompass.scoring import score_tempcompass

MC = "In which direction is the car moving?\nA. from right to left\nB. from left to right\nC. upwards\nD. not moving"
LEXICAL = build_judge(JudgeConfig())  # what --judge auto builds
CAPTIONS = ("Which caption matches the video better?\nCaption A: The man first jumps and then runs.\n"
            "Caption B: The man first runs and then jumps.")


def _item(fmt: str, question: str, answer: str, pred: str, **extra: str) -> dict:
    return {"format": fmt, "dim": "direction", "fine_dim": "x", "question": question, "answer": answer, "pred": pred,
            "mc_question": extra.get("mc_question", ""), "mc_answer": extra.get("mc_answer", "")}


WRONG = [
    _item("multi-choice", MC, "B. from left to right", "from right to left"),
    _item("multi-choice", MC, "B. from left to right", "The car is moving from right to left."),
    _item("multi-choice", MC, "B. from left to right", "It moves left to right... from right to left"),
    _item("multi-choice", MC, "A. from right to left", "(B) from left to right"),
    _item("caption_matching", CAPTIONS, "Caption A: The man first jumps and then runs.",
          "The man first runs and then jumps."),  # the reversed caption
    _item("caption_matching", CAPTIONS, "Caption A: The man first jumps and then runs.",
          "The man first runs and then jumps"),
    _item("yes_no", "Is the car moving from left to right?", "yes", "The car is not moving; the answer is no."),
    _item("captioning", "", "", "A car drives from right to left along a road.",
          mc_question=MC, mc_answer="B. from left to right"),
]


def test_wrong_option_texts_and_reversed_captions_score_zero_under_the_default_judge():
    for item in WRONG:  # the old token-F1 fallback rated most of them "Correct" (F1 with the gold line >= 0.5)
        out = score_tempcompass(LEXICAL, [item])
        assert out["accuracy"] == 0.0, item["pred"]


def test_a_reply_naming_the_right_option_is_credited_and_an_unnamed_one_is_counted():
    items = [_item("multi-choice", MC, "B. from left to right", p) for p in
             ("The car goes from left to right.", "(B)", "it goes left", "from left to right or from right to left")]
    out = score_tempcompass(LEXICAL, items)
    assert [v["rating"] for v in out["per_item"].values()] == [1, 1, 0, 0]
    assert [v["by"] for v in out["per_item"].values()] == ["named_option", "named_option", "unmatched", "unmatched"]
    assert out["unmatched"] == 2 and out["named_option"] == 2 and out["match_rate"] == 0.0


def test_rules_only_counts_every_unmatched_reply():
    items = [_item("multi-choice", MC, "B. from left to right", p) for p in ("B", "from left to right", None)]
    out = score_tempcompass(None, items)  # --judge exact_match: the authors' --disable_llm
    assert [v["rating"] for v in out["per_item"].values()] == [1, 0, 0] and out["unmatched"] == 2


def test_runs_default_judge_through_the_task_hook(tmp_path):
    from eval import runtime
    from eval.tasks.tempcompass.utils import agg_acc

    unnamed = _item("multi-choice", MC, "B. from left to right", "the car drives to the right side")
    items = [{**i, "task": "tempcompass_multi_choice", "video_id": "v", "index": n}
             for n, i in enumerate([*WRONG[:4], unnamed])]
    ctx = runtime.RunContext(out_dir=tmp_path, judge_name="auto")
    assert agg_acc(items, ctx=ctx) == 0.0
    assert ctx.verdicts["tempcompass_multi_choice"] == "judge_reports/tempcompass_multi_choice.json"
    report = json.loads((tmp_path / ctx.verdicts["tempcompass_multi_choice"]).read_text())
    assert report["unmatched"] == 1 and report["named_option"] == 4
    assert "named_option" in report["judge"]["parse_rule"]


@pytest.mark.parametrize("pred, letter", [
    ("there are some trees", "B"), ("Trees.", "B"), ("zzz", None),
    ("some shrubs and trees", None),  # names two options: unmatched, not the one sharing most words
    ("tree", None),  # shares a stem with the right option but names none
])
def test_videobench_offline_judge_names_options_only(pred, letter):
    choices = {"A": "Shrubs", "B": "Trees", "C": "Flowers"}
    assert json.loads(lexical_reply("videobench", {"pred": pred, "choices": choices}))["maximum probability"] == letter


def test_named_option_prefers_the_longer_option_it_contains():
    options = [("A", "left"), ("B", "from left to right")]
    assert named_option("It moves from left to right", options) == 1
    assert named_option("Answer: A man runs", [("A", "walks"), ("B", "runs")]) == 1  # "A man" is no label
    assert named_option("The answer is A.", [("A", "walks"), ("B", "runs")]) == 0
