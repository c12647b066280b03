"""The shared helpers that make outside text safe to show and outside names safe to use as file names."""

from __future__ import annotations

import pytest

from dreamframe.html import environment
from dreamframe.path_names import check_component, component_problem, path_problem
from dreamframe.text_safety import clean_text, markdown_inline


def test_clean_text_drops_control_and_bidi_characters_and_keeps_the_rest():
    text = "abc\u202edef\x00g\u2066h\u200fi\x1b[31mj\r\nk\u2028l \u00e9\U0001f600\u200d\U0001f525 \u05e9\u05dc\u05d5\u05dd"
    assert clean_text(text) == "abcdefghi[31mj\nk\nl \u00e9\U0001f600\u200d\U0001f525 \u05e9\u05dc\u05d5\u05dd"
    assert clean_text("a\nb\tc", keep_newlines=False) == "a b c"


@pytest.mark.parametrize("text, shown", [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("[x](javascript:alert(1))", "[x\\](javascript:alert(1))"),
    ("![pixel](http://tracker/p.png)", "![pixel\\](http://tracker/p.png)"),
    ("`code` a\\|b", "\\`code\\` a\\\\|b"),
    ("&amp; <http://x>", "&amp;amp; &lt;http://x&gt;"),
    ("tiny-llava_onevision [28.0, 42.0]", "tiny-llava_onevision [28.0, 42.0]"),
    ("two\nlines\u202e", "two lines"),
])
def test_markdown_inline_makes_no_markup(text, shown):
    assert markdown_inline(text) == shown


def test_html_templates_print_strings_without_control_or_bidi_characters():
    page = environment().from_string("<p>{{ name }}</p>").render(name="<b>x</b>\u202eevil\x00")
    assert page == "<p>&lt;b&gt;x&lt;/b&gt;evil</p>"


@pytest.mark.parametrize("name, problem", [
    ("", "is empty"), ("..", "starts with '.'"), (".hidden", "starts with '.'"), ("a/b", "path separator"),
    ("a\\b", "path separator"), ("a\x00b", "control character"), ("x" * 256, "256 bytes"), ("\u00e9" * 128, "256 bytes"),
])
def test_unusable_names_are_named_with_the_reason(name, problem):
    assert problem in component_problem(name)
    with pytest.raises(ValueError, match="--name"):
        check_component(name, "--name")


def test_usable_names_and_paths_pass():
    for name in ("tiny-llava_onevision", "LLaVA OV 7B (ours)", "x" * 255, "\u00e9" * 127, "v1.2"):
        assert component_problem(name) is None and check_component(name, "--name") == name
    assert path_problem("/data/" + "x" * 255 + "/y.mp4") is None
    assert "NUL" in path_problem("/data/a\x00b.mp4") and "300 bytes" in path_problem("/data/" + "v" * 296 + ".mp4")
