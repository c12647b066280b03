"""Test-wide settings: nothing reaches a hub or the network; wandb stays offline."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _restore_environment():
    """Undo environment changes a test (or a library it drives, e.g. Lightning setting MASTER_ADDR from
    SLURM variables) leaves behind, so a later distributed test never rendezvouses with a stale address."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
