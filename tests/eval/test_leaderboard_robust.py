"""The leaderboard never drops a model without a word, and a killed eval run cannot break it (issue 12).

Choice for a NaN metric (e.g. an open-QA accuracy when no judge reply could be parsed): warn on stderr
and show the model as n/a, unranked, rather than refuse the whole board - the other models' numbers
stay usable and the pipeline's last stage still finishes, while the gap is visible in every output."""

from __future__ import annotations

import csv
import math

from eval.leaderboard import main
from tests.eval.fixtures import write_results


def test_nan_metric_is_shown_as_na_with_a_warning(tmp_path, capsys):
    res, out = tmp_path / "res", tmp_path / "lb"
    write_results(res, "scored", {"dreamframe_heldout_open": {"acc": [1.0, 0.0, 1.0]}})
    write_results(res, "unscorable", {"dreamframe_heldout_open": {"acc": [math.nan, math.nan]}})
    assert main([str(res), "--out", str(out), "--published", "none", "--bootstrap", "10"]) == 0
    err = capsys.readouterr().err
    assert "unscorable" in err and "n/a" in err and "dreamframe_heldout_open" in err
    with open(out / "leaderboard.csv", newline="") as fh:
        rows = {r["model"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"scored", "unscorable"}
    assert rows["unscorable"]["value"] == "nan" and rows["unscorable"]["rank"] == ""
    assert rows["scored"]["rank"] == "1"
    md = (out / "leaderboard.md").read_text()
    assert "Not available (n/a)" in md and "| unscorable | dreamframe_heldout_open | acc | n/a |" in md
    assert "unscorable" in (out / "index.html").read_text()


def test_files_in_hidden_folders_are_not_results(tmp_path):
    """eval.run stages its results under <out>/.staging/ and moves them into place; a run killed while
    saving leaves a half-written file there, which must not break the board."""
    res, out = tmp_path / "res", tmp_path / "lb"
    write_results(res, "m", {"dreamframe_heldout": {"acc": [1.0, 0.0]}})
    (res / ".staging" / "m").mkdir(parents=True)
    (res / ".staging" / "m" / "results_2026-01-01T00-00-00.json").write_text('{"results": {"dreamfr')
    assert main([str(res), "--out", str(out), "--published", "none", "--bootstrap", "0"]) == 0
    with open(out / "leaderboard.csv", newline="") as fh:
        assert [r["model"] for r in csv.DictReader(fh)] == ["m"]


def test_plain_lm_eval_accuracy_is_read_in_the_units_its_task_declares(tmp_path):
    """lm-eval's own tasks report 0-1 fractions, DreamFrame's task templates percent and say so in their
    config's metadata (copied into the results file): both show as percent, intervals included."""
    import json

    folder = tmp_path / "res" / "gpt2"
    folder.mkdir(parents=True)
    stamp = "2026-01-01T00-00-00"
    hits = [1.0] * 3 + [0.0] * 7  # 30% of 10 questions
    with (folder / f"samples_arc_easy_{stamp}.jsonl").open("w") as fh:
        fh.writelines(json.dumps({"doc_id": i, "filter": "none", "acc": v}) + "\n" for i, v in enumerate(hits))
    (folder / f"results_{stamp}.json").write_text(json.dumps({
        "results": {"arc_easy": {"alias": "arc_easy", "acc,none": 0.3},
                    "dreamframe_heldout_closed": {"alias": "dreamframe_heldout_closed", "acc,none": 40.0}},
        "configs": {"arc_easy": {"task": "arc_easy", "metadata": {"version": 1.0}},
                    "dreamframe_heldout_closed": {"metadata": {"version": 2.0, "accuracy_units": "percent"}}},
        "config": {"model": "hf", "model_args": {"pretrained": "gpt2"}}, "lm_eval_version": "0.4.13"}))
    out = tmp_path / "lb"
    assert main([str(tmp_path / "res"), "--out", str(out), "--published", "none", "--bootstrap", "200"]) == 0
    with open(out / "leaderboard.csv", newline="") as fh:
        rows = {r["task"]: r for r in csv.DictReader(fh) if r["metric"] == "accuracy"}
    assert float(rows["arc_easy"]["value"]) == 30.0  # was shown as 0.3 (%)
    assert float(rows["dreamframe_heldout_closed"]["value"]) == 40.0
    assert 0.0 <= float(rows["arc_easy"]["ci_low"]) < 30.0 < float(rows["arc_easy"]["ci_high"]) <= 100.0
