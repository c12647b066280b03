"""`python -m eval.run --protocol official`: each model family's published settings per benchmark (eval/families/,
eval/tasks/<bench>/protocols.yaml) are applied where the harness can (a fixed frame count and rule) and recorded
per task in the results, equal to the table; the leaderboard shows the protocol."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.leaderboard import LeaderboardConfig, build
from eval.protocol import FAMILIES_DIR, NOT_PUBLISHED, ProtocolError, family_of, table
from eval.run import main
from tests.eval.benchmarks import fixtures

FAMILIES = sorted(p.stem for p in FAMILIES_DIR.glob("*.yaml"))
BENCHES = ("mvbench", "msvd_qa", "vcgbench", "tempcompass", "videomme", "videobench")
DEFAULT_FRAMES = {"mvbench": (16, "videochat2"), "msvd_qa": (8, "linspace_inclusive"),
                  "vcgbench": (8, "linspace_inclusive"), "tempcompass": (8, "linspace_inclusive"),
                  "videomme": (16, "segment_centre"), "videobench": (8, "linspace_inclusive")}


def test_the_table_says_what_the_sources_say():
    """Spot checks against the cited sources (issue threads, papers, the authors' scripts)."""
    qwen = table("qwen2_5_vl", "videomme")["settings"]
    assert (qwen["fps"], qwen["max_frames"], qwen["video_tokens"]) == (2, 768, "<= 24,576 per video")
    assert qwen["prompt"] == NOT_PUBLISHED and qwen["num_frames"] == NOT_PUBLISHED
    assert any("#1029" in s for s in table("qwen2_5_vl", "mvbench")["sources"])
    ov = table("llava_onevision", "videomme")
    assert ov["settings"]["num_frames"] == 32 and ov["settings"]["max_new_tokens"] == 16 and ov["published"]
    vl = table("video_llava", "msvd_qa")["settings"]
    assert (vl["num_frames"], vl["frame_sampling"], vl["max_new_tokens"]) == (8, "linspace_inclusive", 1024)
    assert table("video_llava", "videomme")["published"] is False


def test_family_is_needed(tmp_path):
    assert family_of("tiny-qwen2_5_vl", None) == "qwen2_5_vl"
    with pytest.raises(ProtocolError, match="give --family"):
        family_of(str(tmp_path), None)
    with pytest.raises(ProtocolError, match="families with published settings"):
        table("no_such_family", "mvbench")


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bench")
    for make in (fixtures.open_qa, fixtures.vcgbench, fixtures.tempcompass, fixtures.videobench):
        make(root)
    fixtures.videomme(root, missing_one=False)
    return root


@pytest.mark.parametrize("family", FAMILIES)
def test_recorded_settings_equal_the_table_for_every_benchmark(family, bench, mvbench_root, tmp_path):
    pred = tmp_path / "p.jsonl"
    pred.write_text(json.dumps({"question_id": "none", "answer": "A"}) + "\n", encoding="utf-8")
    argv = ["--predictions", str(pred), "--family", family, "--protocol", "official", "--tasks", ",".join(BENCHES),
            "--data-root", str(bench), "--data-dirs", json.dumps({"mvbench": str(mvbench_root)}),
            "--out", str(tmp_path / "ev"), "--bootstrap-iters", "0", "--progress", "false"]
    assert main(argv) == 0
    res = json.loads(next((tmp_path / "ev" / "p").glob("results_*.json")).read_text())
    per_task = res["dreamframe"]["tasks"]
    seen = set()
    for task, rec in per_task.items():
        bench_name = next(b for b in BENCHES if task == b or task.startswith(b + "_"))
        seen.add(bench_name)
        want = table(family, bench_name)
        got = rec["protocol"]
        assert {k: got[k] for k in want} == want, (family, task)
        n, rule = DEFAULT_FRAMES[bench_name]
        s = want["settings"]
        n = s["num_frames"] if isinstance(s["num_frames"], int) else n
        rule = s["frame_sampling"] if s["frame_sampling"] != NOT_PUBLISHED else rule
        assert (rec["clip"]["num_frames"], rec["clip"]["rule"]) == (n, rule), (family, task)
        assert got["applied"] == {"num_frames": n, "frame_sampling": rule}
        assert set(got["not_applied"]) == {f for f in got["not_applied"] if s[f] != NOT_PUBLISHED}
    assert seen == set(BENCHES)
    build(LeaderboardConfig(results=[str(tmp_path / "ev")], out=str(tmp_path / "lb"), bootstrap=0, published="none"))
    assert f"official protocol ({family})" in (tmp_path / "lb" / "leaderboard.md").read_text()


def test_official_refuses_explicit_frames(tmp_path, capsys):
    assert main(["--protocol", "official", "--num-frames", "4", "--tasks", "msvd_qa", "--out", str(tmp_path)]) == 2
    assert "drop --num-frames" in capsys.readouterr().err
