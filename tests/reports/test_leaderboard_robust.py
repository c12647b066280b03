"""The leaderboard never drops a model without a word, and a killed eval run cannot break it (issue 12).

Choice for a NaN metric (e.g. an open-QA accuracy when no judge reply could be parsed): warn on stderr
and show the model as n/a, unranked, rather than refuse the whole board - the other models' numbers
stay usable and the pipeline's last stage still finishes, while the gap is visible in every output."""

from __future__ import annotations

import csv
import math

from eval.leaderboard import main
from tests.reports.fixtures import write_results


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
