"""eval.summary's verdict: a type is learned only above the blind model AND the majority answer, with
disjoint intervals; one answer given far more often than the commonest correct answer is a shortcut."""

from __future__ import annotations

from eval.summary import format_table, verdict


def _block(acc: float, ci: tuple[float, float], free: float = 30.0, share: float = 40.0) -> dict:
    return {"acc": acc, "acc_ci": list(ci), "free_acc": free, "free_acc_ci": [free - 5, free + 5], "n": 300,
            "top_answer_share": share}


def _table(count_share: float = 40.0) -> dict:
    return {
        "chance": {"acc": 30.0, "per_type": {"count": {"acc": 33.3}, "colour": {"acc": 25.0}}},
        "majority": {"acc": 31.0, "acc_ci": [28.0, 34.0],
                     "per_type": {"count": {"acc": 34.0, "acc_ci": [29.0, 39.0], "answer_share": 35.0},
                                  "colour": {"acc": 26.0, "acc_ci": [21.0, 31.0], "answer_share": 14.0}}},
        "blind": {**_block(31.0, (28.0, 34.0), 25.0),
                  "per_type": {"count": _block(34.0, (29.0, 39.0)), "colour": _block(27.0, (22.0, 32.0))}},
        "tuned": {**_block(45.0, (41.0, 49.0), 40.0),
                  "per_type": {"count": _block(60.0, (54.0, 66.0), share=count_share),
                               "colour": _block(30.0, (25.0, 35.0), share=20.0)}},
    }


def test_learned_needs_disjoint_intervals_above_blind_and_majority():
    v = verdict(_table())
    assert v["learned_types"] == ["count"]  # colour's interval overlaps the blind model's
    assert v["acc_beats_blind"] is True and v["acc_minus_blind"] == 14.0 and v["free_acc_minus_blind"] == 15.0
    assert v["constant_answer_types"] == []


def test_a_constant_answer_is_flagged():
    v = verdict(_table(count_share=90.0))  # commonest correct answer: 35% of count questions
    assert v["constant_answer_types"] == ["count"] and v["per_type"]["count"]["shortcut_limit"] == 45.0


def test_table_lists_controls_first_with_intervals():
    text = format_table({"heldout_closed": _table(), "verdict": verdict(_table())})
    header = text.splitlines()[0].split()
    assert header[-4:] == ["chance", "majority", "blind", "tuned"]
    assert "[41.0, 49.0]" in text and "learned (above blind and majority, disjoint CIs): count" in text
