"""Dependencies declared as used: every third-party import of the rooms is declared, every declared
package is imported (or says in pyproject.toml why it is needed without an import)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.conftest import REPO

ROOMS = ("dreamframe", "data_gen", "models", "training", "eval", "launch")


def _name(req: str) -> str:
    return re.split(r"[\[<>=!~ ;]", req, maxsplit=1)[0].lower().replace("_", "-")


def imported_distributions() -> set[str]:
    dists = packages_distributions()
    found = set()
    for room in ROOMS:
        for path in (REPO / room).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in ROOMS:
                        continue
                    found.update(_name(d) for d in dists.get(top, [top]))
    return found


def test_imports_and_declared_dependencies_agree():
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    project = tomllib.loads(text)["project"]
    declared = {_name(r) for r in project["dependencies"]}
    extras = {_name(r) for reqs in project["optional-dependencies"].values() for r in reqs}
    used = imported_distributions()
    assert used - declared - extras == set(), "imported but not declared"
    explained = {_name(line.strip().strip('",')) for line in text.splitlines() if "# not imported:" in line}
    assert declared - used - explained == set(), "declared but never imported (say why, or remove it)"
