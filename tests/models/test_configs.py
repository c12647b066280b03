"""Every YAML under configs/models/ loads through ExportConfig; default.yaml equals the dataclass defaults;
the export CLI writes a folder that reloads and refuses to overwrite one."""

from __future__ import annotations

import glob

import pytest

from dreamframe.config import from_dict, load_yaml, to_dict
from models.export import ExportConfig, main
from models.registry import FAMILIES, load_adapter

YAMLS = sorted(glob.glob("configs/models/*.yaml"))


def test_default_yaml_equals_dataclass_defaults():
    assert load_yaml("configs/models/default.yaml") == to_dict(ExportConfig())


@pytest.mark.parametrize("path", YAMLS)
def test_yaml_loads_through_dataclass(path):
    cfg = from_dict(ExportConfig, load_yaml(path))
    assert cfg.model.family in FAMILIES


def test_every_family_has_a_tiny_yaml():
    assert {f"configs/models/tiny_{f}.yaml" for f in FAMILIES} <= set(YAMLS)


def test_export_cli_writes_a_loadable_folder_and_keeps_existing_ones(tmp_path, capsys):
    out = tmp_path / "m"
    main(["--config", "configs/models/tiny_video_llava.yaml", "--out", str(out), "--model.tiny.image_size", "32"])
    assert "wrote" in capsys.readouterr().out
    assert load_adapter(out).family == "video_llava"
    before = (out / "model.safetensors").stat().st_mtime_ns
    with pytest.raises(SystemExit, match="not empty"):
        main(["--config", "configs/models/tiny_video_llava.yaml", "--out", str(out)])
    assert (out / "model.safetensors").stat().st_mtime_ns == before
