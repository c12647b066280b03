"""The dataset report: counts, distributions, answer-balance checks, contact sheets, consistency."""

import json
import math
import os
import re
from pathlib import Path

import pytest

from data_gen.config import GenerateConfig
from data_gen.generate import generate
from data_gen.report import ReportConfig, answer_balance, build, chi2_sf, main
from dreamframe.config import from_dict, load_yaml
from dreamframe.dataset import DatasetError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ds")
    cfg = from_dict(GenerateConfig, {**load_yaml(REPO / "configs/data_gen/tiny.yaml"), "out": str(out)})
    generate(cfg, progress=False)
    return out


def test_report_counts_match_the_manifest(dataset, tmp_path):
    summary = build(ReportConfig(dataset=str(dataset), out=str(tmp_path), frames_per_movie=5), progress=False)
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert summary["movies"] == manifest["counts"]["movies"] == 4
    assert summary["qa"] == manifest["counts"]["qa"]
    assert summary["qa_types"] == manifest["counts"]["qa_by_type"]
    assert summary["thumbnails"] == 4 * 5 and summary["missing_frames"] == 0
    html = (tmp_path / "index.html").read_text()
    assert html.count('src="data:image/jpeg;base64,') == 20
    assert not re.search(r'(src|href)="(https?:)?//', html), "page must not load anything from the network"
    for table_id in ("counts", "genres", "qa-types", "balance"):
        assert f'id="{table_id}"' in html
    assert json.loads((tmp_path / "report.json").read_text())["movies"] == 4
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "index.html").stat().st_mode & 0o777 == 0o666 & ~umask  # shareable, not mkstemp's 0600


def test_answer_balance_flags_a_shortcut_and_passes_a_balanced_set():
    opts = ["red", "blue", "green", "white"]
    biased = [{"qa_type": "colour", "answer": "red", "options": opts} for _ in range(40)]
    biased += [{"qa_type": "colour", "answer": o, "options": opts} for o in opts[1:] for _ in range(3)]
    rec = answer_balance(biased)[0]
    assert rec["majority_answer"] == "red" and rec["majority_rate"] == pytest.approx(40 / 49)
    assert rec["chance"] == 0.25 and "majority answer beats chance" in rec["flag"]
    assert "answer position not uniform" in rec["flag"] and rec["positions"]["A"] == 40
    balanced = []
    for i in range(32):  # every colour is the answer 8 times, every position holds it 8 times
        answer, pos = opts[i % 4], (i // 4) % 4
        others = [o for o in opts if o != answer]
        balanced.append({"qa_type": "colour", "answer": answer, "options": others[:pos] + [answer] + others[pos:]})
    rec = answer_balance(balanced)[0]
    assert rec["flag"] == "" and rec["majority_rate"] == 0.25 and rec["position_p"] > 0.5
    open_ended = answer_balance([{"qa_type": "why", "answer": "x", "options": []}])[0]
    assert open_ended["chance"] is None and open_ended["flag"] == ""


def test_chi_square_tail_matches_textbook_critical_values():
    # 5% and 1% critical values of the chi-square distribution for df = 1..5
    for df, x05, x01 in ((1, 3.8415, 6.6349), (2, 5.9915, 9.2103), (3, 7.8147, 11.3449),
                         (4, 9.4877, 13.2767), (5, 11.0705, 15.0863)):
        assert chi2_sf(x05, df) == pytest.approx(0.05, abs=2e-5)
        assert chi2_sf(x01, df) == pytest.approx(0.01, abs=2e-5)
    assert chi2_sf(0.0, 3) == pytest.approx(1.0) and math.isclose(chi2_sf(1e3, 2), 0.0, abs_tol=1e-100)


def test_consistency_metrics_are_shown_when_present(dataset, tmp_path):
    copy = tmp_path / "ds"
    import shutil

    shutil.copytree(dataset, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["consistency"] = {"mean": {"clip_image_image": 0.81, "clip_text_image": 0.3, "lpips_adjacent": 0.55},
                               "per_movie": {"m00000": {"clip_image_image": 0.81, "clip_text_image": 0.3,
                                                        "lpips_adjacent": 0.55}}, "skipped": {}}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    build(ReportConfig(dataset=str(copy), out=str(tmp_path / "r")), progress=False)
    html = (tmp_path / "r" / "index.html").read_text()
    assert 'id="consistency"' in html and "0.8100" in html and "0.8304" in html  # measured next to the paper
    assert 'id="consistency-per-movie"' in html


def test_bad_input_is_a_clear_error(tmp_path, capsys, dataset):
    assert main([str(tmp_path), "--out", str(tmp_path / "r")]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    with pytest.raises(DatasetError, match="dataset folder itself"):
        build(ReportConfig(dataset=str(dataset), out=str(dataset)), progress=False)


def test_yaml_config_equals_dataclass_defaults():
    assert from_dict(ReportConfig, load_yaml(REPO / "configs/reports/dataset_report.yaml")) == ReportConfig()


def test_missing_keyframes_are_reported_not_fatal(dataset, tmp_path):
    import shutil

    copy = tmp_path / "ds"
    shutil.copytree(dataset, copy)
    (copy / "frames" / "m00000" / "00000.jpg").unlink()
    (copy / "frames" / "m00001" / "00000.jpg").write_bytes(b"not a jpeg")
    s = build(ReportConfig(dataset=str(copy), out=str(tmp_path / "r"), frames_per_movie=4), progress=False)
    assert s["missing_frames"] == 2 and s["thumbnails"] == 4 * 4 - 2
    assert list(s["incomplete_movies"]) == ["m00000"]  # a missing file; a corrupt one is seen only on reading
    assert (tmp_path / "r" / "index.html").read_text().count("frame 0 missing or unreadable") == 2


def test_control_and_bidi_characters_in_story_text_are_shown_not_acted_on(dataset, tmp_path):
    """A NUL or a right-to-left override in an LLM's story text must not reach the page raw (issue 27)."""
    import shutil

    copy = tmp_path / "ds"
    shutil.copytree(dataset, copy)
    path = sorted((copy / "movies").glob("*.json"))[0]
    movie = json.loads(path.read_text())
    movie["title"] = "Evil\u202eelif.exe\x00 <b>bold</b>"
    movie["chapters"][0]["substories"][0]["frames"][0]["description"] = "a cat\x00\x1b[31m\u2066hidden\u2069"
    path.write_text(json.dumps(movie))
    build(ReportConfig(dataset=str(copy), out=str(tmp_path / "r"), frames_per_movie=5), progress=False)
    html = (tmp_path / "r" / "index.html").read_text()
    for raw in ("\x00", "\u202e", "\x1b", "\u2066", "\u2069", "<b>bold"):
        assert raw not in html, repr(raw)
    assert "Evil[U+202E]elif.exe[U+0000] &lt;b&gt;bold" in html
    assert "a cat[U+0000][U+001B][31m[U+2066]hidden[U+2069]" in html
