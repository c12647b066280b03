"""House rules on the shape of the code: no import circles, no arrow up between rooms, no Python file over
400 lines.

Import edges are read with `ast`, not by importing. Both module-level imports and imports inside
functions count: a function-level import is still a dependency at run time, and is exactly how a
circle hides (data_gen.generate <-> data_gen.story.llm was one). Imports under `if TYPE_CHECKING:`
do not count: they never run. A submodule's implicit import of its parent package is not an edge.
`from pkg import name` is an edge to `pkg.name` when that is a module, else to `pkg`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

ROOMS = ("dreamframe", "data_gen", "models", "training", "eval", "launch")
FORBIDDEN = {
    "dreamframe": {"data_gen", "models", "training", "eval", "launch"},  # the core imports no room
    "data_gen": {"training", "eval", "launch"},
    "models": {"launch"},
    "training": {"eval", "launch"},  # training and eval meet only through checkpoints on disk
    "eval": {"training", "launch"},
    "launch": set(),  # what starts the other rooms may import every room
}
"""room -> the rooms it may not import (ARCHITECTURE.md's rules of the house)."""
LINE_LIMIT_DIRS = (*ROOMS, "tests", "benchmarks")
MAX_LINES = 400
MAX_FUNCTION_LINES = 80


def module_names(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: module level and in functions, not under `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """module -> the project modules it imports."""
    modules = module_names(root, packages)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([base] if base else [])])
            targets.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names)
        edges = set()
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


@pytest.mark.parametrize("room", ROOMS)
def test_no_import_circles_inside_rooms(room):
    """Fails on integ before issue 16 (data_gen.generate <-> story.llm; data_gen.metrics -> render.diffusion
    -> tiny_diffusion -> metrics; dreamframe.dataset <-> dataset_card; eval.leaderboard <-> leaderboard_render)."""
    touching = [c for c in circles(import_graph(REPO, ROOMS)) if any(m.split(".")[0] == room for m in c)]
    assert touching == [], f"import circles in {room}/: " + "; ".join(" <-> ".join(c) for c in touching)


def test_no_room_imports_a_room_above_it():
    """launch starts every room and no room imports launch; the core imports no room. New with the launch
    room (the old tree had no arrow up either); an `import launch.submit` added to training/plan.py fails
    here naming `training.plan -> launch.submit`. The aliases dreamframe/pipeline/__main__.py and
    training/submit/__main__.py run launch through runpy (a string), which is no import."""
    assert set(FORBIDDEN) == set(ROOMS)
    up = sorted(f"{module} -> {target}" for module, targets in import_graph(REPO, ROOMS).items()
                for target in targets if target.split(".")[0] in FORBIDDEN[module.split(".")[0]])
    assert up == [], "imports against the rules of the house (ARCHITECTURE.md): " + "; ".join(up)


def test_the_circle_finder_sees_function_level_imports_and_skips_type_checking(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("def f():\n    from pkg.c import g\n")
    (pkg / "c.py").write_text("def g():\n    import pkg.a\n")
    (pkg / "d.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import e\n")
    (pkg / "e.py").write_text("from . import d\n")
    graph = import_graph(tmp_path, ("pkg",))
    assert graph["pkg.e"] == {"pkg.d"} and graph["pkg.d"] == set()
    assert circles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_no_python_file_over_400_lines():
    """House style. Fails until the other issue-16 branches land: eval/leaderboard.py (i16-html),
    data_gen/report.py (i16-html), models/common.py (i16-clip)."""
    long = {str(p.relative_to(REPO)): n for d in LINE_LIMIT_DIRS for p in sorted((REPO / d).rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}, f"files over {MAX_LINES} lines: {long}"


def long_functions(root: Path, packages: tuple[str, ...], limit: int) -> dict[str, int]:
    """`file:line name` -> lines from `def` to the function's last line (docstring and nested defs included)."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if (n := node.end_lineno - node.lineno + 1) > limit:
                        found[f"{path.relative_to(root)}:{node.lineno} {node.name}"] = n
    return found


def test_no_function_over_80_lines():
    """House style (hard limit; aim for 60). Fails on the old tree: data_gen/style/textual_inversion.py
    train_style_embedding (123), data_gen/story/llm.py _write (87), data_gen/schedule.py write_claimed (83),
    eval/run.py run (86)."""
    long = long_functions(REPO, ROOMS, MAX_FUNCTION_LINES)
    assert long == {}, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_function_counter_counts_from_def_to_the_last_line(tmp_path):
    (tmp_path / "pkg").mkdir()
    short = "def short():\n" + "".join(f"    x{i} = {i}\n" for i in range(79))  # 80 lines: allowed
    long = "def long():\n" + "".join(f"    x{i} = {i}\n" for i in range(80))  # 81 lines
    (tmp_path / "pkg" / "a.py").write_text(short + "\n\n" + long)
    assert long_functions(tmp_path, ("pkg",), 80) == {"pkg/a.py:83 long": 81}
