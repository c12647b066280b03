"""The leaderboard shows hostile names as text and says what it leaves out (issue 27): results files are
written by anyone (`--name`, lm-eval itself, a copied folder), so a model name may hold HTML, Markdown
links, control or right-to-left-override characters; folders it skips or cannot read are named on stderr."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from eval.leaderboard import main
from tests.eval.fixtures import write_results

REPO = Path(__file__).parents[2]
HOSTILE = "<script>alert(1)</script>\u202eevil\x00 [click](javascript:alert(2)) a|b\nnext"


def test_hostile_model_names_are_shown_as_text_in_markdown_and_html(tmp_path):
    res, out = tmp_path / "res", tmp_path / "lb"
    path = write_results(res, "hostile", {"dreamframe_heldout_closed": {"acc": [1.0, 0.0, 1.0]}})
    data = json.loads(path.read_text())
    data["dreamframe"]["model"] = HOSTILE  # (a folder name cannot hold a NUL; the results file can)
    path.write_text(json.dumps(data))
    write_results(res, "plain-model", {"dreamframe_heldout_closed": {"acc": [0.0, 0.0, 1.0]}})
    assert main([str(res), "--out", str(out), "--published", "none", "--bootstrap", "0"]) == 0
    md = (out / "leaderboard.md").read_text()
    html = (out / "index.html").read_text()
    for text in (md, html):
        assert "<script>alert(1)" not in text and "\u202e" not in text and "\x00" not in text
        assert "&lt;script&gt;alert(1)" in text
    assert "](javascript" not in md.replace("\\](", ""), "no Markdown link"
    assert "[click\\](javascript:alert(2))" in md
    lines = md.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("| rank"))  # a ranked board (after "Our models")
    header = lines[at]
    row = next(line for line in lines[at:] if "alert(1)" in line and line.startswith("| "))
    assert "evil" in row and "next" in row, "one table row, newline made a space"
    cells = row.replace("\\|", "").split("|")
    assert len(cells) == len(header.split("|")), "the name's '|' does not add a column"
    with open(out / "leaderboard.csv", newline="") as fh:  # the CSV keeps the name as written (data, not markup)
        assert HOSTILE in {r["model"] for r in csv.DictReader(fh)}


def test_results_in_hidden_folders_are_named_not_skipped_silently(tmp_path, capsys):
    """`eval.run --name ../x` wrote into `<out>/..__x/` (lm-eval's rewriting of the name); the board left it
    out without a word. eval.run now refuses such names; the board says what it does not read."""
    res, out = tmp_path / "res", tmp_path / "lb"
    write_results(res, "visible", {"dreamframe_heldout_closed": {"acc": [1.0, 0.0]}})
    hidden = write_results(res, "..__x", {"dreamframe_heldout_closed": {"acc": [1.0, 1.0]}})
    assert main([str(res), "--out", str(out), "--published", "none", "--bootstrap", "0"]) == 0
    err = capsys.readouterr().err
    assert "1 results file(s) in hidden folders" in err and str(hidden) in err


def _as_unprivileged(cmd: list[str]) -> list[str]:
    """`cmd` run so that file permissions apply: as is for a normal user; for root (where permissions do
    not stop reads) inside a user namespace, where root's own files are checked by their owner bits."""
    if os.geteuid() != 0:
        return cmd
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare, "--user", "--map-user=1000", "--map-group=1000", "true"],
                           capture_output=True) if unshare else None
    if probe is None or probe.returncode != 0:
        pytest.skip("running as root without user namespaces: no folder can be made unreadable")
    return [unshare, "--user", "--map-user=1000", "--map-group=1000", *cmd]


def test_an_unreadable_folder_is_named(tmp_path):
    res, out = tmp_path / "res", tmp_path / "lb"
    write_results(res, "readable", {"dreamframe_heldout_closed": {"acc": [1.0, 0.0]}})
    locked = write_results(res, "locked", {"dreamframe_heldout_closed": {"acc": [1.0, 1.0]}}).parent
    locked.chmod(0)
    try:
        cmd = _as_unprivileged([sys.executable, "-m", "eval.leaderboard", str(res), "--out", str(out),
                                "--published", "none", "--bootstrap", "0"])
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    finally:
        locked.chmod(0o755)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"warning: {locked}: folder not readable (Permission denied)" in done.stderr
