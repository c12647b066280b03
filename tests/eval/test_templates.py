"""The pages' markup lives in Jinja2 templates shipped as package data (issue 16, item 3): they load
through the package loader, an installed wheel carries them, values are escaped, and the page modules
import each other in one direction only."""

from __future__ import annotations

import ast
import importlib.resources
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dreamframe.html import environment
from eval.leaderboard import LeaderboardConfig, build
from tests.conftest import REPO
from tests.eval.fixtures import write_results

TEMPLATES = {"dreamframe": ["page.html.jinja", "macros.html.jinja", "bar_chart.svg.jinja", "hbar_chart.svg.jinja",
                            "page.css", "sort.js"],
             "eval": ["leaderboard.html.jinja"], "data_gen": ["report.html.jinja"]}
PAGE_MODULES = ["dreamframe/html.py", "eval/leaderboard/cli.py", "eval/leaderboard/types.py", "eval/leaderboard/published.py",
                "eval/leaderboard/read.py", "eval/leaderboard/rank.py", "eval/leaderboard/render.py",
                "data_gen/report.py", "data_gen/report_page.py"]


@pytest.mark.parametrize("package", sorted(TEMPLATES))
def test_templates_load_through_the_package_loader(package):
    folder = importlib.resources.files(f"{package}.templates")
    env = environment(package)
    for name in TEMPLATES[package]:
        text = (folder / name).read_text(encoding="utf-8")
        source, _, _ = env.loader.get_source(env, name)
        assert source == text, name
        env.get_template(name)  # compiles
    shipped = {p.name for p in Path(str(folder)).iterdir() if p.suffix != ".py" and p.is_file()}
    assert shipped == set(TEMPLATES[package])  # a template added later is listed here and checked in the wheel


def test_wheel_ships_the_templates(tmp_path):
    """Build the wheel offline from a copy of the packages (setuptools, no isolation) and look inside."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for room in ("dreamframe", "data_gen", "models", "training", "eval"):
        shutil.copytree(REPO / room, src / room, ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-q", "-w", str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    names = set(zipfile.ZipFile(next((tmp_path / "dist").glob("dreamframe-*.whl"))).namelist())
    expected = {f"{package}/templates/{name}" for package, files in TEMPLATES.items() for name in files}
    assert expected - names == set(), "templates missing from the wheel"


def test_values_are_escaped_on_the_page(tmp_path):
    """Autoescaping is on: a model name or title holding markup shows as text, never as markup."""
    hostile = "<img src=x onerror=alert(1)>"
    write_results(tmp_path / "res", hostile, {"dreamframe_heldout": {"acc": [1.0, 0.0, 1.0]}})
    build(LeaderboardConfig(results=[str(tmp_path / "res")], out=str(tmp_path / "lb"), published="none",
                            bootstrap=10, title="Board <b>&</b> co"))
    page = (tmp_path / "lb" / "index.html").read_text(encoding="utf-8")
    assert hostile not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<title>Board &lt;b&gt;&amp;&lt;/b&gt; co</title>" in page
    assert "<b>" in page  # markup written by the templates themselves stays markup


def _imports(path: Path) -> set[str]:
    """Project modules `path` imports anywhere (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_page_modules_import_in_one_direction_and_stay_short():
    modules = {p.removesuffix(".py").replace("/", "."): REPO / p for p in PAGE_MODULES}
    graph = {m: _imports(path) & set(modules) - {m} for m, path in modules.items()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start])

    assert [m for m in graph if reaches(m, m, {m})] == [], "import circle among the page modules"
    long = {p: n for p in PAGE_MODULES if (n := len((REPO / p).read_text(encoding="utf-8").splitlines())) > 400}
    assert long == {}
