"""The frames answer their questions at the model's input size: after the resize the tiny demo model sees,
every figure's clothing still shows its colour (the answer of colour questions and what count questions
count). Checked on the saved keyframes of the main job's data config."""

from __future__ import annotations

import numpy as np
import yaml
from PIL import Image

from data_gen.config import GenerateConfig
from data_gen.generate import generate
from data_gen.render.procedural import ProceduralRenderer
from dreamframe.config import from_dict, load_yaml
from dreamframe.dataset import DatasetFolder
from dreamframe.vocab import COLOURS
from tests.conftest import REPO

PALETTE = np.array(list(COLOURS.values()), dtype=float)
NAMES = list(COLOURS)


def colour_survival(folder: DatasetFolder, render_size: int, figure_scale: float, input_size: int) -> float:
    """Share of figures whose torso pixel, in the frame resized to `input_size`, is nearest its own colour."""
    renderer = ProceduralRenderer(render_size, figure_scale)
    hits = total = 0
    for mid in folder.finished_movie_ids():
        movie = folder.load_movie(mid)
        for frame in movie.frames:
            img = Image.open(folder.root / "frames" / mid / f"{frame.index:05d}.jpg").convert("RGB")
            small = np.asarray(img.resize((input_size, input_size), Image.BICUBIC), dtype=float)
            for name, (x, y) in zip(frame.characters, renderer.torso_centres(frame.verb, len(frame.characters))):
                px = small[min(input_size - 1, int(y * input_size / render_size)),
                           min(input_size - 1, int(x * input_size / render_size))]
                hits += NAMES[int(np.argmin(((PALETTE - px) ** 2).sum(1)))] == movie.character(name).colour
                total += 1
    return hits / total


def _demo(tmp_path, **render) -> tuple[DatasetFolder, GenerateConfig]:
    data = load_yaml(str(REPO / "configs/data_gen/demo_cpu.yaml"))
    data.update(out=str(tmp_path / "d"), num_movies=6, workers=1)
    data["render"].update(render)
    cfg = from_dict(GenerateConfig, data)
    generate(cfg, progress=False)
    return DatasetFolder(cfg.out), cfg


def test_clothing_colour_survives_the_resize_to_the_demo_models_input(tmp_path):
    folder, cfg = _demo(tmp_path)
    train = yaml.safe_load((REPO / "configs/train/tiny_cpu.yaml").read_text())
    size = train["model"]["tiny"]["image_size"]
    assert colour_survival(folder, cfg.render.size, cfg.render.figure_scale, size) >= 0.98


def test_the_check_fails_when_figures_are_too_small_for_the_input(tmp_path):
    folder, cfg = _demo(tmp_path, figure_scale=0.4)
    assert colour_survival(folder, cfg.render.size, cfg.render.figure_scale, 16) < 0.9
