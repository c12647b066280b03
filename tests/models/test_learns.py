"""The tiny model's vision path carries what the QA needs: it learns a figure's clothing colour from
pixels (fresh random clips each step, so memorising cannot pass) within a few dozen steps. (benchmarks/models_learn.py runs the longer probe on a dataset folder.)"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from PIL import Image

from dreamframe.vocab import COLOURS
from models.base import ModelConfig, Sample
from models.registry import build_adapter

Q = "What colour is the person wearing?"


@pytest.fixture
def one_thread():
    """Tiny models train fastest on one thread, and 2 threads on a busy 2-core runner can be 10x slower."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_tiny_llava_onevision_learns_colours_from_frames(one_thread):
    torch.manual_seed(0)
    rnd, rng = random.Random(0), np.random.default_rng(0)
    a = build_adapter(ModelConfig(num_frames=2, freeze=[], tiny={"image_size": 32, "patch_size": 8}))
    names = ["red", "blue", "yellow", "white"]

    def clip(colour):
        frames = []
        for _ in range(2):
            im = np.clip(rng.normal(128, 40, (48, 48, 3)), 0, 255)
            x, y = rng.integers(0, 30, 2)
            im[y:y + 16, x:x + 10] = COLOURS[colour]
            frames.append(Image.fromarray(im.astype(np.uint8)))
        return frames

    def accuracy():
        colours = [rnd.choice(names) for _ in range(32)]
        outs = a.generate([clip(c) for c in colours], [Q] * 32, max_new_tokens=2)
        return sum(o.startswith(c) for o, c in zip(outs, colours)) / len(colours)

    before = accuracy()
    opt = torch.optim.AdamW(a.model.parameters(), lr=1e-3)
    a.model.train()
    for _ in range(25):
        batch = a.collate([Sample(clip(c), [{"role": "user", "content": Q}, {"role": "assistant", "content": c}])
                           for c in (rnd.choice(names) for _ in range(12))])
        loss = a.forward(batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    a.model.eval()
    after = accuracy()
    assert before < 0.3 and after >= 0.5  # chance = 0.25, (before, after)
