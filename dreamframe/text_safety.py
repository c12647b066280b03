"""Text from outside (model names, task names, story and benchmark text) made safe to show in a report.

A `<script>` model name must not become markup in leaderboard.md, and a right-to-left override (U+202E)
or a NUL in story text must not reorder or cut what a reader sees. `clean_text` drops the characters that
change how text is displayed rather than what it says; `markdown_inline` also escapes what Markdown would
turn into HTML, links or table cells. HTML pages need only `clean_text`: Jinja's autoescaping (on in
dreamframe/html.py) already turns `<`, `>` and `&` into entities.
"""

from __future__ import annotations

import re
import unicodedata

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Arabic letter mark, LRM/RLM, the embeddings and overrides (LRE..RLO), the isolates (LRI..PDI)."""
LINE_BREAKS = frozenset("\n\r\t\u2028\u2029\x0b\x0c\x85")
"""Whitespace that breaks a line (or a Markdown table row); kept as newlines or made spaces."""
_MARKDOWN = re.compile(r"[\\&<>`]|\](?=\()")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _unsafe(ch: str) -> bool:
    """A control character (C0, DEL, C1), an unpaired surrogate, or a bidirectional formatting character."""
    return ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs")


def clean_text(text: str, keep_newlines: bool = True) -> str:
    """`text` without control, surrogate and bidi formatting characters; line breaks become `\\n` (or,
    with keep_newlines False, single spaces). Letters, emoji and joiners are kept as they are."""
    out = []
    for ch in str(text).replace("\r\n", "\n"):
        if ch in LINE_BREAKS:
            out.append("\n" if keep_newlines and ch in "\n\r\u2028\u2029\x85" else " ")
        elif not _unsafe(ch):
            out.append(ch)
    return "".join(out)


def show_hidden(text: str) -> str:
    """`text` with each control, surrogate and bidi formatting character (but tab and newline) shown as
    `[U+202E]` instead of dropped: for pages that report what a story held (data_gen's dataset report)."""
    return "".join(f"[U+{ord(ch):04X}]" if ch not in "\t\n" and _unsafe(ch) else ch for ch in text)


def markdown_inline(text: str) -> str:
    """`text` as one line of Markdown that shows the same characters and makes no HTML (tags, entities and
    autolinks: `< > &` become entities), links or images (the `](` that every inline one needs is escaped;
    reference ones need a definition at a line's start, which a cell or heading cannot make) nor code spans
    (`` ` ``). Brackets stay readable (`[28.0, 42.0]`), emphasis stays possible (harmless). `|` is left to the table writer, which escapes it: every backslash here is
    already doubled, so its `\\|` is always an escaped pipe."""
    flat = clean_text(text, keep_newlines=False)
    return _MARKDOWN.sub(lambda m: _ENTITIES.get(m.group(), "\\" + m.group()), flat)

