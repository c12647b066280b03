"""The main job's leaderboard opens with this run: the controls table (every role and section summary.json
lists, per type, with CIs) and its chart, then our models, then the published rows (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from eval.leaderboard import LeaderboardConfig, build
from tests.eval.fixtures import make_demo, write_results

SUMMARY = {
    "models": {"base": "tiny-base", "blind": "tiny-blind", "order_blind": "tiny-order-blind", "tuned": "tiny-tuned"},
    "heldout_closed": {
        "chance": {"acc": 27.5, "per_type": {"count": {"acc": 33.3}}},
        "majority": {"acc": 29.0, "acc_ci": [25.0, 33.5], "per_type": {"count": {"acc": 35.0, "acc_ci": [28.0, 42.0]}}},
        "base": {"acc": 30.1, "acc_ci": [24.0, 36.0], "free_acc": 20.0, "free_acc_ci": [15.0, 26.0]},
        "blind": {"acc": 27.9, "acc_ci": [22.0, 34.0], "pair_acc": 10.0, "pair_acc_ci": [5.0, 18.0]},
        "order_blind": {"acc": 31.0, "acc_ci": [25.0, 37.0]},
        "tuned": {"acc": 87.2, "acc_ci": [82.0, 91.0], "pair_acc": 75.0, "pair_acc_ci": [66.0, 82.0],
                  "per_type": {"count": {"acc": 90.0, "acc_ci": [80.0, 95.0]}}}},
    "heldout_shift": {"blind": {"acc": 25.0, "acc_ci": [18.0, 33.0]}, "tuned": {"acc": 70.0, "acc_ci": [61.0, 78.0]}},
    "verdict": {"acc_minus_blind": 59.3},
    "dataset": "runs/demo/data",
}


def board(tmp_path: Path) -> Path:
    res = make_demo(tmp_path / "res")
    rng = np.random.default_rng(1)
    for model, p in (("tiny-base", 0.3), ("tiny-blind", 0.28), ("tiny-tuned", 0.87)):
        write_results(res, model, {"dreamframe_heldout_closed": {"acc": list((rng.random(100) < p).astype(float))}},
                      frames=("segment_centre", 4), fingerprint=model)
    (tmp_path / "summary.json").write_text(json.dumps(SUMMARY))
    build(LeaderboardConfig(results=[str(res)], out=str(tmp_path / "lb"), bootstrap=50,
                            controls=str(tmp_path / "summary.json")))
    return tmp_path / "lb"


def test_markdown_opens_with_the_controls_then_ours_then_published(tmp_path):
    md = (board(tmp_path) / "leaderboard.md").read_text()
    head = md.index("## This run: models beside their controls")
    assert head < md.index("## Our models") < md.index("*(published [")
    assert md.index("tuned 87.2 [82.0, 91.0] vs blind 27.9 [22.0, 34.0]: +59.3 points (disjoint 95% CIs)") < 1500
    # every role and section the summary lists, no layout naming them
    assert "| type | chance | majority | base (tiny-base) | blind (tiny-blind) | order_blind (tiny-order-blind) " \
           "| tuned (tiny-tuned) |" in md
    assert "| all, pair_acc | - | - | - | 10.0 [5.0, 18.0] | - | 75.0 [66.0, 82.0] |" in md
    assert "| all, free_acc | - | - | 20.0 [15.0, 26.0] | - | - | - |" in md
    assert "### held-out shift (acc %, 95% CI)" in md and "| count | 33.3 | 35.0 [28.0, 42.0] | - | - | - | 90.0" in md
    ours = md[md.index("## Our models"):md.index("\n## ", md.index("## Our models") + 5)]
    assert "tiny-tuned" in ours and "Qwen2-VL" not in ours


def test_html_opens_with_the_headline_and_chart(tmp_path):
    html = (board(tmp_path) / "index.html").read_text()
    start = html.index('id="tuned-vs-blind"')
    assert start < html.index('id="overview"') < html.index('<tr class="published"')
    assert "+59.3 points" in html[start:start + 400]
    section = html[html.index('id="this-run"'):html.index('id="overview"')]
    assert section.count("<svg") == 1 and "held-out shift: tuned" in section and "order_blind" in section
    assert 'id="per-type-heldout_shift"' in section
