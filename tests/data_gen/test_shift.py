"""The shifted held-out set (configs/data_gen/demo_shift.yaml) draws its figures outside the training data's
ranges (configs/data_gen/demo_cpu.yaml): its movies' recorded layouts and their pixels show it."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from data_gen.config import GenerateConfig, RenderConfig
from data_gen.generate import generate
from data_gen.render.procedural import ProceduralRenderer, draw_from_bands, figure_layout, styled_background
from data_gen.style.procedural import style_from_keyword
from dreamframe.config import from_dict, load_yaml
from dreamframe.dataset import DatasetError, DatasetFolder, frame_name
from tests.conftest import REPO

CONFIGS = REPO / "configs" / "data_gen"


def _config(name: str, out, num_movies: int) -> GenerateConfig:
    data = load_yaml(str(CONFIGS / name))
    data.update(out=str(out), num_movies=num_movies, workers=1)
    return from_dict(GenerateConfig, data)


def _disjoint(a: list[float], b: list[float]) -> bool:
    return a[1] < b[0] or b[1] < a[0]


def test_the_shift_config_ranges_lie_outside_the_training_ranges():
    train, shift = (_config(n, "x", 1) for n in ("demo_cpu.yaml", "demo_shift.yaml"))
    assert _disjoint(train.render.figure_scale_range, shift.render.figure_scale_range)
    assert _disjoint(train.render.figure_offset_range, shift.render.figure_offset_range)
    assert shift.test_fraction == 1.0 and shift.movie_prefix != train.movie_prefix and shift.seed != train.seed
    same = ("story", "qa", "frame_sampling")  # the same stories and questions, drawn differently
    assert [getattr(train, k) for k in same] == [getattr(shift, k) for k in same]


def _layouts(folder: DatasetFolder) -> list[dict]:
    return [json.loads((folder.style_dir() / f"{m}.layout.json").read_text()) for m in folder.finished_movie_ids()]


def _figure_extent(folder: DatasetFolder) -> tuple[float, float]:
    """(mean top row, mean |column centroid - centre|) of the figures in the saved keyframes: the pixels that
    differ from the place's empty background."""
    tops, offsets = [], []
    for movie in folder.movies():
        style = style_from_keyword(movie.style_keyword)
        for frame in movie.frames:
            image = np.asarray(Image.open(folder.frames_dir(movie.id) / frame_name(frame.index)).convert("RGB"), int)
            empty = np.asarray(styled_background(frame.place, style, image.shape[0]), int)
            figure = np.abs(image - empty).sum(axis=2) > 60
            rows, cols = np.nonzero(figure)
            tops.append(rows.min())
            offsets.append(abs(cols.mean() - image.shape[1] / 2))
    return float(np.mean(tops)), float(np.mean(offsets))


def test_shifted_movies_are_drawn_outside_the_training_range(tmp_path):
    train = _config("demo_cpu.yaml", tmp_path / "train", 6)
    shift = _config("demo_shift.yaml", tmp_path / "shift", 6)
    for cfg in (train, shift):
        generate(cfg, progress=False)
    (a, b) = (DatasetFolder(c.out) for c in (train, shift))
    for cfg, folder in ((train, a), (shift, b)):
        lo, hi = cfg.render.figure_scale_range
        off_lo, off_hi = cfg.render.figure_offset_range
        for layout in _layouts(folder):
            assert lo <= layout["figure_scale"] <= hi and off_lo <= abs(layout["figure_offset"]) <= off_hi
    assert {m.split for m in b.movies()} == {"test"}
    (top_a, off_a), (top_b, off_b) = _figure_extent(a), _figure_extent(b)
    assert top_b < top_a - 2 and off_b > off_a + 2  # larger figures (heads nearer the top), further off-centre


def test_figure_spacing_moves_where_figures_stand_and_keeps_every_other_draw():
    """`render.figure_spacing_range` moves where side-by-side figures stand, per movie; a config without it (the
    demo and its shifted set) keeps every draw it had."""
    render = RenderConfig(figure_scale=1.6, figure_scale_range=[1.3, 1.65], figure_offset_range=[0.0, 0.06])
    spaced_render = replace(render, figure_spacing_range=[0.7, 1.0])
    plain, spaced = figure_layout(0, "m00007", render), figure_layout(0, "m00007", spaced_render)
    assert plain["figure_spacing"] == 1.0 and 0.7 <= spaced["figure_spacing"] <= 1.0
    assert {k: plain[k] for k in ("figure_scale", "figure_offset")} == \
        {k: spaced[k] for k in ("figure_scale", "figure_offset")}
    narrow, wide = (ProceduralRenderer(96, 1.6, figure_spacing=s) for s in (0.7, 1.0))
    (left_narrow, _), _ = narrow.torso_centres("walk", 2)
    (left_wide, _), _ = wide.torso_centres("walk", 2)
    assert left_wide < left_narrow - 4  # pixels at 96 px: two people stand closer together
    assert narrow.torso_centres("hug", 2) == wide.torso_centres("hug", 2)  # a hug stays a hug
    spacings = {figure_layout(0, f"m{i:05d}", spaced_render)["figure_spacing"] for i in range(20)}
    assert len(spacings) == 20  # drawn per movie


@pytest.mark.parametrize(("name", "value"), [("figure_spacing_range", [1.0, 0.7]),
                                           ("figure_scale_range", [1.3, 1.4, 1.35, 1.8]),
                                           ("figure_scale_range", [1.3, 1.4, 1.6])])
def test_a_bad_range_is_refused_by_name(tmp_path, name, value):
    data = load_yaml(str(CONFIGS / "demo_cpu.yaml"))
    data.update(out=str(tmp_path / "d"), num_movies=1, workers=1)
    data["render"][name] = value
    with pytest.raises(DatasetError, match=f"render.{name}"):
        generate(from_dict(GenerateConfig, data), progress=False)
    assert not (tmp_path / "d" / "movies").exists()


def test_scale_bands_are_drawn_in_proportion_to_their_width_and_never_between():
    bands = [1.27, 1.4, 1.62, 1.8]
    rng = np.random.default_rng(0)
    draws = np.array([draw_from_bands(rng, bands) for _ in range(4000)])
    assert not ((draws > 1.4) & (draws < 1.62)).any() and draws.min() >= 1.27 and draws.max() <= 1.8
    assert abs((draws <= 1.4).mean() - 0.13 / 0.31) < 0.03
    one, two = np.random.default_rng(5), np.random.default_rng(5)
    assert [draw_from_bands(one, [1.3, 1.65]) for _ in range(50)] == [float(two.uniform(1.3, 1.65)) for _ in range(50)]


@pytest.mark.parametrize("offset", [0.0, 0.14, -0.14, 0.3])
def test_a_group_pushed_off_centre_keeps_every_figure_half_inside_the_frame(offset):
    """The shifted set pushes figures 0.12-0.14 of the width sideways: a lone figure moves all the way, a group
    of three stops where its outer figure still shows at least half its dress, so a count stays answerable."""
    renderer = ProceduralRenderer(96, 1.8, figure_offset=offset)
    inset = 15 * 1.8 / 336 * 96  # a quarter of a dress's width, in pixels
    for n in (1, 2, 3):
        xs = [x for x, _ in renderer.torso_centres("walk", n)]
        assert inset - 1e-6 <= min(xs) and max(xs) <= 96 - inset + 1e-6
    if abs(offset) < 0.3:
        (lone, _), = renderer.torso_centres("walk", 1)
        assert lone == pytest.approx((0.5 + offset) * 96)  # nothing to hold back
