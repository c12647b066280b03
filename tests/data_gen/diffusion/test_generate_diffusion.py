"""The generate CLI with render.backend diffusion + style.backend textual_inversion writes a dataset folder."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from data_gen.generate import main
from data_gen.style.embeddings import read_embedding_file
from dreamframe.dataset import DatasetFolder
from tests.conftest import REPO

TINY = str(REPO / "configs/data_gen/tiny_diffusion.yaml")


def test_cli_writes_diffusion_dataset_and_resumes(tmp_path, capsys):
    out = tmp_path / "ds"
    assert main(["--config", TINY, "--out", str(out)]) == 0
    folder = DatasetFolder(out)
    manifest = folder.manifest()
    assert manifest["counts"]["movies"] == 2 and manifest["failures"] == {}
    assert manifest["backends"] == {"story": "procedural", "style": "textual_inversion", "render": "diffusion"}
    for movie in folder.movies():
        paths = folder.frame_paths(movie.id)
        assert len(paths) == movie.num_frames == 4
        frames = [np.asarray(Image.open(p)) for p in paths]
        assert all(f.shape == (32, 32, 3) for f in frames)
        assert not np.array_equal(frames[0], frames[1])  # seed = 20 + frame index: frames differ
        assert movie.source["render"] == "diffusion:tiny-sdxl+tiny-sdxl-refiner"
        info = json.loads((out / "style" / f"{movie.id}.json").read_text())
        token = info["token"]  # paper mode: the keyword's own token carries the style
        assert token == movie.style_keyword.lower() and info["training"]["steps"] == 4
        tensors, meta = read_embedding_file(out / "style" / f"{movie.id}.safetensors")
        assert set(tensors) == {"clip_l", "clip_g"} and meta["token"] == token and meta["mode"] == "keyword"
        assert tensors["clip_l"].shape == (1, 32) and torch.isfinite(tensors["clip_g"]).all()
        assert sorted(p.name for p in (out / "style" / movie.id).iterdir()) == ["ref_00.jpg", "ref_01.jpg"]
    cons = manifest["consistency"]
    assert cons["skipped"] == {}
    for rec in cons["per_movie"].values():
        assert -1 <= rec["clip_image_image"] <= 1 and -1 <= rec["clip_text_image"] <= 1 and rec["lpips_adjacent"] > 0
    assert set(cons["per_movie"]) == {"m00000", "m00001"}

    # a rerun with the same config skips both finished movies and keeps their frames
    before = (out / "frames/m00000/00000.jpg").read_bytes()
    assert main(["--config", TINY, "--out", str(out)]) == 0
    assert DatasetFolder(out).manifest()["last_run"]["skipped_finished"] == 2
    assert (out / "frames/m00000/00000.jpg").read_bytes() == before


def test_textual_inversion_needs_diffusion_renderer(tmp_path, capsys):
    assert main(["--config", TINY, "--out", str(tmp_path / "x"), "--render.backend", "procedural"]) == 2
    assert "style.backend textual_inversion needs render.backend diffusion" in capsys.readouterr().err


def test_procedural_render_reports_metrics_and_skip_reasons(tmp_path):
    """The procedural renderer reports the same fields; an unloadable CLIP is skipped with its reason."""
    out = tmp_path / "proc"
    argv = ["--config", str(REPO / "configs/data_gen/tiny.yaml"), "--out", str(out), "--num-movies", "1",
            "--metrics.clip_model", str(tmp_path / "no-such-clip"), "--metrics.lpips_weights", "tiny-lpips",
            "--metrics.device", "cpu"]
    assert main(argv) == 0
    cons = DatasetFolder(out).manifest()["consistency"]
    rec = cons["per_movie"]["m00000"]
    assert rec["lpips_adjacent"] > 0 and rec["clip_image_image"] is None
    assert "cannot load clip model" in cons["skipped"]["clip"] and "no-such-clip" in cons["skipped"]["clip"]


@pytest.mark.parametrize("description,expected", [
    ("generate an image in Gothic style: At the harbor, Tom is standing, happy",
     "generate an image in <tok> style: At the harbor, Tom is standing, happy"),
    ("At the harbor, Tom is standing", "in <tok> style, At the harbor, Tom is standing"),
    ("a gothic-looking GOTHIC hall in Gothic style", "a <tok>-looking <tok> hall in <tok> style"),
])
def test_style_token_in_every_prompt(description, expected):
    from data_gen.render.diffusion import frame_prompt

    assert frame_prompt(description, "Gothic", "<tok>") == expected
    assert frame_prompt(description, "Gothic", None) == description


def test_identity_tokens_one_per_character(tmp_path):
    """Beyond the paper: one learned token per character, saved and used before its look-alike phrase."""
    out = tmp_path / "ids"
    argv = ["--config", TINY, "--out", str(out), "--num-movies", "1", "--style.textual_inversion.identity_tokens", "true",
            "--style.textual_inversion.identity_references", "1", "--metrics.clip_model", "null",
            "--metrics.lpips_weights", "null"]
    assert main(argv) == 0
    movie = DatasetFolder(out).load_movie("m00000")
    info = json.loads((out / "style/m00000.json").read_text())
    assert set(info["identities"]) == {c.name for c in movie.characters}
    for char in movie.characters:
        rec = info["identities"][char.name]
        tensors, meta = read_embedding_file(out / rec["file"])
        assert meta["token"] == rec["token"] == f"<{char.name.lower()}-m00000>" and set(tensors) == {"clip_l", "clip_g"}
    assert len(DatasetFolder(out).frame_paths("m00000")) == movie.num_frames


def test_identity_token_goes_before_the_phrase():
    from data_gen.render.diffusion import frame_prompt

    text = "generate an image in Noir style: At the cafe, a man who looks like Tom Hanks in red is sitting, calm"
    assert frame_prompt(text, "Noir", "<s>", {"a man who looks like Tom Hanks in red": "<tom>"}) == (
        "generate an image in <s> style: At the cafe, <tom> a man who looks like Tom Hanks in red is sitting, calm")
