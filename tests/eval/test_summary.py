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


def _paired(acc: float, ci: tuple[float, float], pair: float, pair_ci: tuple[float, float]) -> dict:
    return {**_block(acc, ci), "pair_acc": pair, "pair_acc_ci": list(pair_ci), "pair_n": 150}


def _video_table(order_blind_pairs: tuple[float, float]) -> dict:
    """Temporal questions in minimal pairs; the order-blind model's pair_acc is the argument."""
    table = _table()
    table["majority"]["per_type"]["temporal"] = {"acc": 50.0, "acc_ci": [45.0, 55.0], "answer_share": 50.0,
                                                 "pair_acc": 0.0, "pair_acc_ci": [0.0, 2.5]}
    table["blind"]["per_type"]["temporal"] = _paired(50.0, (45.0, 55.0), 2.0, (0.7, 5.7))
    table["order_blind"] = {**_block(40.0, (36.0, 44.0)), "per_type": {
        "count": _block(58.0, (52.0, 64.0)), "colour": _block(29.0, (24.0, 34.0)),
        "temporal": _paired(52.0, (47.0, 57.0), *order_blind_pairs)}}
    table["tuned"]["per_type"]["temporal"] = _paired(80.0, (76.0, 84.0), 62.0, (54.0, 69.0))
    return table


def test_pairs_are_learned_only_above_every_control_including_order_blind():
    v = verdict(_video_table(order_blind_pairs=(3.0, (1.0, 7.0))))
    assert v["learned_types"] == ["count", "temporal"] and v["pair_learned_types"] == ["temporal"]
    assert v["above_order_blind_types"] == ["temporal"]  # count: the order-blind twin sees counts as well
    assert v["per_type"]["temporal"]["pair_acc_minus_blind"] == 60.0
    # an order-blind model that still answers the twins apart (order-sensitive by accident) takes it away
    v = verdict(_video_table(order_blind_pairs=(60.0, (52.0, 67.0))))
    assert v["pair_learned_types"] == [] and v["per_type"]["temporal"]["pair_learned"] is False


def test_both_held_out_sets_get_a_table_and_a_verdict():
    table = _video_table(order_blind_pairs=(3.0, (1.0, 7.0)))
    summary = {"heldout_closed": table, "verdict": verdict(table),
               "heldout_shift": _table(), "verdict_shift": verdict(_table())}
    text = format_table(summary)
    first, shifted = text.split("\n\n")
    assert first.startswith("held-out closed acc") and shifted.startswith("shifted closed acc")
    assert first.splitlines()[0].split()[-5:] == ["chance", "majority", "blind", "order_blind", "tuned"]
    assert "temporal, pairs" in first and "62.0 [54.0, 69.0]" in first
    assert "pairs learned (pair_acc above every control): temporal" in first
    assert "pairs" not in shifted and "learned (above blind and majority, disjoint CIs): count" in shifted


def test_max_per_type_scores_one_fixed_subset_of_each_held_out_set(tmp_path, heldout_root):
    """`eval.run --max_per_type`: at most N questions of each type, the same rows every time, on the
    in-distribution and the shifted benchmark alike; a benchmark without question types refuses it."""
    import json
    from collections import Counter

    import pytest

    from eval.tasks import materialise

    tasks, dirs = ["dreamframe_heldout_closed", "dreamframe_shift_closed"], {
        "dreamframe_heldout": str(heldout_root), "dreamframe_shift": str(heldout_root)}
    whole = materialise(tasks, tmp_path, tmp_path / "all", num_frames=4, data_dirs=dirs)
    cut = materialise(tasks, tmp_path, tmp_path / "cut", num_frames=4, data_dirs=dirs, max_per_type=2)
    again = materialise(tasks, tmp_path, tmp_path / "again", num_frames=4, data_dirs=dirs, max_per_type=2)

    def rows(folder, task):
        return [json.loads(line) for line in (folder / "data" / f"{task}.jsonl").open()]

    for task in tasks:
        all_rows, picked = rows(tmp_path / "all", task), rows(tmp_path / "cut", task)
        types = Counter(r["qa_type"] for r in all_rows)
        assert Counter(r["qa_type"] for r in picked) == {t: min(2, n) for t, n in types.items()}
        assert picked == rows(tmp_path / "again", task) and cut.num_docs[task] == again.num_docs[task] == len(picked) < whole.num_docs[task]
    with pytest.raises(ValueError, match="--max_per_type: mvbench"):
        materialise(["mvbench"], tmp_path, tmp_path / "mv", max_per_type=2)
