"""A full disk and a cut weights file (issue 27, problems 9 and 10): one error line naming the file, no
traceback. The disk is a real 120-200 kB tmpfs, mounted in a private user+mount namespace (`unshare`, no
root needed where user namespaces are allowed; the tests skip where they are not)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

TINY_MODEL = REPO / "configs/models/tiny_llava_onevision.yaml"


def on_tiny_disk(tmp_path: Path, size: str, args: list[str]) -> subprocess.CompletedProcess:
    """Run `python ARGS` with a `size` tmpfs mounted at tmp_path/fs (its paths written as {fs})."""
    fs = tmp_path / "fs"
    fs.mkdir()
    cmd = shlex.join([sys.executable, *[a.replace("{fs}", str(fs)) for a in args]])
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here: {probe.stderr.decode().strip()}")
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                           f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(fs))} && exec {cmd}"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, stderr[-3000:]
    return lines[0]


def test_disk_full_during_generation_is_one_error_naming_the_file(tmp_path):
    got = on_tiny_disk(tmp_path, "120k", ["-m", "data_gen.generate", "--config", "configs/data_gen/tiny.yaml",
                                          "--out", "{fs}/d", "--workers", "2"])
    assert got.returncode == 1
    line = one_error_line(got.stderr)
    assert f"{tmp_path / 'fs' / 'd'}/" in line and "No space left on device" in line, line


def test_disk_full_during_export_names_the_folder_and_leaves_nothing_half_written(tmp_path):
    got = on_tiny_disk(tmp_path, "200k", ["-m", "models.export", "--config", str(TINY_MODEL), "--out", "{fs}/m"])
    assert got.returncode != 0
    line = one_error_line(got.stderr)
    assert line.startswith(f"error: {tmp_path / 'fs' / 'm'}: cannot write it (No space left on device)"), line


def test_a_truncated_model_safetensors_is_named(tmp_path):
    from dreamframe.config import from_dict, load_yaml
    from models.base import ModelConfig
    from models.export import ExportConfig, export
    from models.registry import load_adapter

    out = export(ExportConfig(out=str(tmp_path / "m"), model=from_dict(ModelConfig, load_yaml(TINY_MODEL)["model"])))
    weights = out / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ValueError, match=rf"^{weights}: truncated or damaged safetensors file \(\d+ bytes, its "
                                         r"header says \d+\); export the model again$"):
        load_adapter(out)
    weights.write_bytes(b"\x00" * 4)
    with pytest.raises(ValueError, match=rf"^{weights}: not a readable safetensors file"):
        load_adapter(out)
