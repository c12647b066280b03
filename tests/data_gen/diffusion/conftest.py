"""Diffusion tests: tiny offline pipelines, one torch thread (tiny kernels run ~10x faster than with two)."""

import pytest


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def pipes():
    """Fresh-loading factory: a new pipeline object from the saved tiny folder each call."""
    from diffusers import AutoPipelineForText2Image

    from data_gen.tiny_diffusion import resolve_model_id

    def load(kind: str):
        pipe = AutoPipelineForText2Image.from_pretrained(resolve_model_id(kind), use_safetensors=True)
        pipe.set_progress_bar_config(disable=True)
        return pipe

    return load
