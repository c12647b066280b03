"""The one wording of a DreamFrame QA pair as a user turn: export, training and the held-out eval share it,
so a model is scored on exactly the prompt format it was trained on."""

from __future__ import annotations

from collections.abc import Sequence

CLOSED_INSTRUCTION = "Answer with the option's text."


def options_block(options: Sequence[str]) -> str:
    """'(A) first\\n(B) second' - the MVBench / VideoChat2 option layout."""
    return "\n".join(f"({chr(65 + i)}) {opt}" for i, opt in enumerate(options))


def question_text(question: str, options: Sequence[str]) -> str:
    """The question, plus lettered options and the answer instruction for closed questions."""
    if not options:
        return question
    return f"{question}\nOptions:\n{options_block(options)}\n{CLOSED_INSTRUCTION}"
