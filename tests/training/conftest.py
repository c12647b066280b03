"""Shared fixtures for training tests, and the test-only overrides that let Lightning's DeepSpeed
strategy run on CPU (ENVIRONMENT.md): product code never uses them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(Path.home() / ".cache" / "dreamframe-torch-extensions"))


def allow_deepspeed_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """The three overrides: skip the CUDA check, root_device = cpu:0 (DeepSpeed wants an index), no device-index validation."""
    import torch
    from lightning.pytorch.strategies import DDPStrategy, DeepSpeedStrategy
    from lightning.pytorch.strategies import deepspeed as ds_mod

    monkeypatch.setattr(DeepSpeedStrategy, "setup_environment", lambda self: DDPStrategy.setup_environment(self))
    monkeypatch.setattr(DeepSpeedStrategy, "root_device", property(lambda self: torch.device("cpu", 0)))
    monkeypatch.setattr(ds_mod, "_validate_device_index_selection", lambda devices: None)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """A small procedural dataset folder written by data_gen (about 2 s)."""
    out = tmp_path_factory.mktemp("data") / "tiny"
    subprocess.run([sys.executable, "-m", "data_gen.generate", "--config", str(ROOT / "configs/data_gen/tiny.yaml"),
                    "--out", str(out), "--num-movies", "8"], check=True, cwd=ROOT, capture_output=True)
    return out


def tiny_overrides(data: Path, out: Path, **extra: object) -> list[str]:
    """Command-line overrides that make tiny_cpu.yaml a seconds-long run on `data`."""
    args = {
        "out": out, "data.sources": f'[{{"path": "{data}"}}]', "data.generate_config": "null",
        "data.batch_size": 4, "model.tiny": f'{{"image_size": 32, "patch_size": 8, "hidden_size": 32, '
                                            f'"vision_hidden_size": 32, "vocab_size": 600, "corpus": ["{data}"]}}',
        "eval.enabled": "false", "log.every_n_steps": 1, **extra,
    }
    return ["--config", str(ROOT / "configs/train/tiny_cpu.yaml")] + [f"--{k}={v}" for k, v in args.items()]
