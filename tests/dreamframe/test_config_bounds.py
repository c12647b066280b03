"""Hostile config files are refused in a moment, naming the file (issue 27, problem 5): a YAML alias bomb
(1 kB that expands to 387 million strings) and a 50 MB config, at every kind of entry point."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dreamframe.safe_yaml import ConfigFileError, check_yaml_text
from tests.conftest import REPO

ENTRY_POINTS = ["data_gen.generate", "training.train", "eval.run", "dreamframe.pipeline"]

# Runs one command and prints its wall time and peak RSS: RUSAGE_CHILDREN of this fresh process holds
# only that command. The address-space cap keeps a regression from taking the machine down with it.
MEASURE = textwrap.dedent("""
    import json, resource, subprocess, sys, time
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    t = time.monotonic()
    try:
        p = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=60, preexec_fn=cap)
        rc, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        rc, err = "timeout", ""
    print(json.dumps({"rc": rc, "s": time.monotonic() - t, "err": err[-2000:],
                      "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
""")


def alias_bomb(path: Path) -> Path:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    big = folder / "big.yaml"
    with open(big, "w") as fh:
        fh.write("- 1\n" * 12_500_000)  # 50 MB
    return {"bomb": alias_bomb(folder / "bomb.yaml"), "big": big}


@pytest.mark.parametrize("module", ENTRY_POINTS)
@pytest.mark.parametrize("kind", ["bomb", "big"])
def test_hostile_config_is_refused_fast_and_small_naming_the_file(hostile, module, kind):
    path = hostile[kind]
    cmd = [sys.executable, "-c", MEASURE, sys.executable, "-m", module, "--config", str(path)]
    got = json.loads(subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=True).stdout)
    assert got["rc"] == 2, got
    assert got["err"].strip().splitlines()[-1].startswith(f"error: {path}: "), got["err"][-500:]
    assert got["s"] < 5 and got["peak_mb"] < 500, got


def test_anchors_in_a_normal_config_are_fine_and_recursion_is_refused():
    check_yaml_text("base: &b {lr: 0.1, steps: 3}\nrun: *b\nother: *b\n", "ok.yaml")
    with pytest.raises(ConfigFileError, match="recursive.yaml: an alias refers to a value that contains it"):
        check_yaml_text("a: &a [1, *a]\n", "recursive.yaml")
    with pytest.raises(ConfigFileError, match="inline: nested too deeply"):
        check_yaml_text("[" * 100_000, "inline")
