import json

import pytest

from dreamframe.schema import SchemaError, load_movie, parse_movie


def _movie_json(dataset):
    return json.loads((dataset / "movies" / "m00000.json").read_text())


def test_valid_movie_round_trips(dataset):
    text = (dataset / "movies" / "m00000.json").read_text()
    assert parse_movie(text).to_json() == text


@pytest.mark.parametrize("mutate, field", [
    (lambda m: m["chapters"][0]["substories"][0]["frames"][1].update(verb="dance"),
     "chapters.0.substories.0.frames.1.verb"),
    (lambda m: m["characters"][0].update(colour="Dark red"), "characters.0.colour"),
    (lambda m: m.update(style_keyword="two words"), "style_keyword"),
    (lambda m: m["qa"][0].update(answer="not an option", options=["a", "b"]), "qa.0"),
    (lambda m: m["locations"].append("far too many words"), "locations"),
    (lambda m: m.update(unexpected=1), "unexpected"),
])
def test_validation_error_names_field_and_file(dataset, tmp_path, mutate, field):
    movie = _movie_json(dataset)
    mutate(movie)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(movie))
    with pytest.raises(SchemaError) as err:
        load_movie(path)
    assert str(path) in str(err.value)
    assert f"field {field}" in str(err.value)


def test_unknown_character_in_frame_is_rejected(dataset):
    movie = _movie_json(dataset)
    movie["chapters"][0]["substories"][0]["frames"][0]["characters"] = ["Nobody"]
    with pytest.raises(SchemaError, match="unknown characters"):
        parse_movie(json.dumps(movie), "x.json")


def test_corrupt_json_names_file(tmp_path):
    path = tmp_path / "movie.json"
    path.write_text('{"id": "m1", "title": ')
    with pytest.raises(SchemaError, match=str(path)):
        load_movie(path)
