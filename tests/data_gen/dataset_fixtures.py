"""The generated datasets many rooms' tests read (`dataset`, `paired_dataset`, session-wide): a plugin of
tests/conftest.py (`pytest_plugins`), so tests/dreamframe, tests/data_gen, tests/training and tests/eval share them."""

import pytest

from data_gen.config import GenerateConfig
from data_gen.generate import generate
from dreamframe.config import from_dict, load_yaml
from tests.conftest import REPO


def tiny_config(out, **overrides) -> GenerateConfig:
    data = load_yaml(REPO / "configs/data_gen/tiny.yaml")
    data.update(out=str(out), **overrides)
    return from_dict(GenerateConfig, data)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    """A small dataset shared by read-only tests (12 movies at 96 px)."""
    out = tmp_path_factory.mktemp("ds") / "data"
    generate(tiny_config(out, num_movies=12, workers=1), progress=False)
    return out


def paired_config(out, **overrides) -> GenerateConfig:
    """tiny.yaml with minimal pairs and the demo model's 4-frame clips (every question type is asked)."""
    qa = {**load_yaml(REPO / "configs/data_gen/tiny.yaml")["qa"], "minimal_pairs": True, "clip_frames": 4}
    return tiny_config(out, qa=qa, **overrides)


@pytest.fixture(scope="session")
def paired_dataset(tmp_path_factory):
    """A small dataset with minimal pairs, shared by read-only tests (6 movies at 96 px)."""
    out = tmp_path_factory.mktemp("pairs") / "data"
    generate(paired_config(out, num_movies=6, workers=1), progress=False)
    return out
