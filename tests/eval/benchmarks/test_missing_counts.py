"""Missing data is counted in questions and in video files (issue 23: one missing Video-MME video dropped
several questions and was reported as "1 video(s) missing")."""

from __future__ import annotations

from eval.leaderboard.render import errors_text
from eval.tasks import materialise
from tests.eval.benchmarks import fixtures


def test_one_missing_video_skips_every_question_about_it(tmp_path):
    base = fixtures.videomme(tmp_path, missing_one=False)
    (base / "data" / "fFjv93ACGo8.mp4").unlink()  # the video of both short questions
    mat = materialise(["videomme"], tmp_path, tmp_path / "t")
    assert mat.num_docs == {"videomme_long": 1}
    assert mat.missing["videomme_short"]["questions"] == 2 and mat.missing["videomme_short"]["videos"] == 1
    assert mat.skipped["videomme_short"] == "all 2 question(s) skipped, 1 video(s) missing"
    assert mat.missing["videomme"]["questions"] == 2 and mat.missing["videomme"]["videos"] == 1
    alias = (tmp_path / "t" / "tasks" / "groups" / "videomme.yaml").read_text()
    assert "videomme (partial: 1 of 2 tasks, 2 question(s) skipped, 1 video(s) missing)" in alias


def test_formats_sharing_a_video_count_it_once(tmp_path):
    """TempCompass's four formats ask about the same videos: the benchmark's video count is their union."""
    root = tmp_path / "b"
    fixtures.tempcompass(root)
    videos = sorted((root / "TempCompass" / "videos").glob("*.mp4"))
    videos[0].unlink()
    mat = materialise(["tempcompass"], root, tmp_path / "t")
    per_task = [mat.missing[t]["videos"] for t in mat.missing if t.startswith("tempcompass_")]
    assert len(per_task) >= 2 and mat.missing["tempcompass"]["videos"] == 1
    assert mat.missing["tempcompass"]["questions"] == sum(
        mat.missing[t]["questions"] for t in mat.missing if t.startswith("tempcompass_"))


def test_leaderboard_says_questions_and_videos():
    assert errors_text({"missing_video": 1, "skipped_questions": 3, "unreadable": 0}) == \
        "3 question(s) skipped, 1 video(s) missing"
