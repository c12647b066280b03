"""The option a free reply names, for multiple-choice scoring without an LLM judge.

A reply is matched to an option only when it names that option and no other: its whole text, the
option's text inside it (an option whose text lies inside a longer named option's text is not named
on its own), or its label ("(B)", "B.", "Caption B", "Option 2", "the answer is B"). A reply that
names no option, or several, is unmatched: scored 0 and counted, never credited for sharing words
with the right answer (lexical similarity decides no multiple-choice verdict in this project).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_LEADING_LABEL = re.compile(r"^\s*(?:\(([A-F1-9])\)|([A-F1-9])\s*[.:)]|([A-F1-9])\s*$)")
_PHRASE_LABEL = (re.compile(r"\b(?:caption|option|sentence|choice)\s*\(?([A-F1-9])\)?(?![\w'])", re.IGNORECASE),
                 re.compile(r"\banswer(?: is|:)\s*\(?([A-F1-9])\)?\s*(?=[.,;:]|$)", re.IGNORECASE))


def norm(text: str) -> str:
    """Lower case, words and digits only, single spaces."""
    return " ".join(re.findall(r"[a-z0-9]+", str(text).lower()))


def _by_text(reply: str, texts: Sequence[str]) -> set[int]:
    padded = f" {norm(reply)} "
    named = {i for i, t in enumerate(texts) if norm(t) and f" {norm(t)} " in padded}
    return {i for i in named if not any(j != i and norm(texts[i]) in norm(texts[j]) and norm(texts[j]) != norm(texts[i])
                                        for j in named)}


def _by_label(reply: str, labels: Sequence[str]) -> set[int]:
    found = [next(g for g in m.groups() if g) for m in (_LEADING_LABEL.match(reply),) if m]
    found += [m.group(1) for rx in _PHRASE_LABEL for m in rx.finditer(reply)]
    upper = [label.upper() for label in labels]
    return {upper.index(f.upper()) for f in found if f.upper() in upper}


def named_option(reply: str | None, options: Sequence[tuple[str, str]]) -> int | None:
    """Index into `options` ((label, text) pairs) of the one option `reply` names; None: none or several."""
    if not reply or not options:
        return None
    labels, texts = [o[0] for o in options], [o[1] for o in options]
    whole = [i for i, t in enumerate(texts) if norm(t) and norm(t) == norm(reply)]
    if len(whole) == 1:
        return whole[0]
    named = _by_text(reply, texts) | _by_label(reply, labels)
    return named.pop() if len(named) == 1 else None
