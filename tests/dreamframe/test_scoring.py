"""dreamframe.scoring: the one place closed answers and their controls are scored."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from dreamframe import scoring


def test_match_option():
    opts = ["red", "dark blue", "blue", "green"]
    assert scoring.match_option("blue", opts) == 2
    assert scoring.match_option("It is dark blue.", opts) == 1
    assert scoring.match_option("(D) something", opts) == 3
    assert scoring.match_option("purple", opts) is None


def test_acc_and_acc_norm_follow_lm_eval():
    """acc: argmax log-likelihood; acc_norm: argmax log-likelihood per character (lm-eval's rule)."""
    options = ["red", "a dark blue coat"]
    logliks = [-3.0, -4.0]  # the short option wins raw, the long one per character (-0.25 vs -1.0)
    m = scoring.closed_metrics(options, "a dark blue coat", logliks)
    assert (m["acc"], m["acc_norm"], m["pick"]) == (0.0, 1.0, "red")
    assert scoring.best_option([-1.0, -1.0], ["a", "b"]) == 0  # ties: the first option, as numpy's argmax
    with pytest.raises(ValueError, match="2 log-likelihoods for 3 options"):
        scoring.best_option([-1.0, -2.0], ["a", "b", "c"])


def test_free_answers_are_matched_to_an_option():
    m = scoring.closed_metrics(["1", "2", "3"], "2", free="(B)")
    assert (m["free_acc"], m["free_pick"]) == (1.0, "2")
    assert scoring.closed_metrics(["1", "2", "3"], "2", free="seven")["free_pick"] is None


def test_wilson_interval():
    lo, hi = scoring.wilson(50, 100)
    assert (lo, hi) == (40.38, 59.62)  # the textbook value for 50/100
    assert scoring.wilson(0, 10)[0] == 0.0 and scoring.wilson(10, 10)[1] == 100.0
    assert all(math.isnan(x) for x in scoring.wilson(0, 0))


def test_summarise_per_type_and_constant_answer_share():
    records = ([{"qa_type": "count", "acc": 1.0, "pick": "2"}] * 3 + [{"qa_type": "count", "acc": 0.0, "pick": "2"}]
               + [{"qa_type": "colour", "acc": 0.0, "pick": "red"}, {"qa_type": "colour", "acc": 1.0, "pick": "blue"}])
    out = scoring.summarise(records, ("acc",))
    assert (out["n"], out["acc"]) == (6, 66.67)
    assert out["per_type"]["count"]["acc"] == 75.0 and out["per_type"]["count"]["top_answer_share"] == 100.0
    assert out["per_type"]["colour"]["top_answer_share"] == 50.0
    lo, hi = out["per_type"]["count"]["acc_ci"]
    assert lo < 75.0 < hi


ROWS_TRAIN = [{"qa_type": "count", "question": "How many?", "answer": a, "options": ["1", "2", "3"]}
              for a in ["2", "2", "2", "1", "3"]]
ROWS_TEST = [{"qa_type": "count", "question": "How many?", "answer": a, "options": o}
             for a, o in [("2", ["1", "2", "3"]), ("1", ["3", "1", "2"]), ("3", ["3", "2", "1"])]]


def test_chance_and_majority_controls():
    controls = scoring.controls(ROWS_TRAIN, ROWS_TEST)
    assert controls["chance"]["acc"] == 33.33 and controls["chance"]["per_type"]["count"]["n"] == 3
    # the majority prior answers "2" whatever the question: right once in three
    assert controls["majority"]["acc"] == 33.33
    assert controls["majority"]["per_type"]["count"]["top_answer"] == "2"
    assert controls["majority"]["per_type"]["count"]["answer_share"] == 33.33  # 2, 1 and 3 once each
    assert scoring.MajorityPrior(ROWS_TRAIN).pick("count", ["3", "1", "2"]) == 2


def test_text_only_audit_flags_a_question_that_gives_its_answer_away():
    """The answer follows the question's wording: the text-only prior finds it, and the audit flags it."""
    colours = ["red", "blue", "green", "yellow"]
    train = [{"qa_type": "colour", "question": f"Is the {c} thing {c}?", "answer": c, "options": colours}
             for c in colours for _ in range(5)]
    test = [{"qa_type": "colour", "question": f"Is the {c} thing {c}?", "answer": c, "options": colours[::-1]}
            for c in colours]
    audit = scoring.blind_audit(train, test)["colour"]
    assert audit["text_only"] == 100.0 and audit["majority"] == 25.0 and audit["chance"] == 25.0
    assert audit["flagged"] is True
    fair = [{**r, "question": "What colour is it?"} for r in train]
    assert scoring.blind_audit(fair, [{**r, "question": "What colour is it?"} for r in test])["colour"]["flagged"] is False


def _twin(pair: str | None, acc: float, qa_type: str = "temporal", options: int = 2) -> dict:
    return {"qa_type": qa_type, "acc": acc, "pair_id": pair, "options": [str(i) for i in range(options)]}


def test_pair_acc_counts_a_pair_only_when_every_twin_is_right():
    records = [_twin("p1", 1.0), _twin("p1", 1.0),  # both right: counts
               _twin("p2", 1.0), _twin("p2", 0.0),  # one right: does not
               _twin("p3", 0.0), _twin("p3", 0.0),
               _twin(None, 1.0), _twin("", 1.0),  # unpaired rows: acc only
               _twin("p4", 1.0)]  # a twin whose partner was not scored: not a pair
    out = scoring.summarise(records, ("acc",))
    block = out["per_type"]["temporal"]
    assert (block["pair_acc"], block["pair_n"]) == (33.33, 3)
    assert block["pair_acc_ci"] == list(scoring.wilson(1, 3))
    assert (out["n"], out["acc"]) == (9, 66.67)  # unpaired rows still count in acc
    # pairs are per type: an action pair beside the temporal ones
    both = scoring.summarise(records + [_twin("a1", 1.0, "action"), _twin("a1", 1.0, "action")], ("acc",))
    assert both["per_type"]["action"]["pair_acc"] == 100.0 and both["pair_n"] == 4 and both["pair_acc"] == 50.0


def test_rows_without_pairs_have_no_pair_figures():
    out = scoring.summarise([_twin(None, 1.0), {"qa_type": "temporal", "acc": 0.0}], ("acc",))
    assert "pair_acc" not in out and "pair_acc" not in out["per_type"]["temporal"]
    assert "pair_acc" not in scoring.chance([_twin(None, 1.0)])


def test_pair_chance_is_the_product_of_the_twins_guesses():
    rows = [{**_twin("p1", 0), "answer": "0"}, {**_twin("p1", 0), "answer": "1"},  # 1/2 * 1/2
            {**_twin("p2", 0, options=4), "answer": "0"}, {**_twin("p2", 0, options=4), "answer": "1"}]  # 1/16
    assert scoring.chance(rows)["per_type"]["temporal"]["pair_acc"] == round(100 * (1 / 4 + 1 / 16) / 2, 2)
    # the majority answer gives both twins of a flipped pair the same option: right on at most one
    train = [{**_twin(None, 0), "answer": "0"}] * 3
    majority = scoring.controls(train, rows)["majority"]["per_type"]["temporal"]
    assert majority["pair_acc"] == 0.0 and majority["acc"] == 50.0


def test_stratified_subset_keeps_pairs_whole_and_is_the_same_for_any_row_order():
    rows = [{"id": f"t{i}", "qa_type": "temporal", "pair_id": f"p{i // 2}"} for i in range(40)]
    rows += [{"id": f"c{i}", "qa_type": "colour", "pair_id": None} for i in range(30)]
    picked = scoring.stratified_subset(rows, 9)
    by_type = Counter(r["qa_type"] for r in picked)
    assert by_type == {"temporal": 8, "colour": 9}  # 4 whole pairs (a fifth would make 10)
    pairs = Counter(r["pair_id"] for r in picked if r["pair_id"])
    assert set(pairs.values()) == {2}
    assert [r["id"] for r in picked] == [r["id"] for r in rows if r in picked]  # the rows' own order
    again = scoring.stratified_subset(list(reversed(rows)), 9)
    assert {r["id"] for r in again} == {r["id"] for r in picked}
    assert {r["id"] for r in scoring.stratified_subset(rows, 9, seed=1)} != {r["id"] for r in picked}
    assert len(scoring.stratified_subset(rows, 1000)) == len(rows)
