import pytest

from dreamframe.jsonl import read_jsonl


class LogError(Exception):
    pass


def test_rows_keep_their_line_numbers_and_a_bad_line_is_named(tmp_path):
    path = tmp_path / "samples.jsonl"
    path.write_text('{"a": 1}\n\n  \n[2]\n{"cut": \n{"b": 3}\n', encoding="utf-8")
    rows = read_jsonl(path, LogError)
    assert next(rows) == (1, {"a": 1}) and next(rows) == (4, [2])
    with pytest.raises(LogError, match=r"samples\.jsonl:5: not valid JSON"):
        next(rows)
