"""Judge prompt templates, stored as the reference scripts' exact text (see prompts/SOURCES.md).

A prompt is `<name>.system.txt` + `<name>.user.txt`, and `<name>.assistant.txt` when the reference sends
an assistant turn between them (Video-Bench does). Fields are filled in ONE regex pass, so a `{pred}`
that happens to appear inside a model answer is never substituted again, and the literal dict examples
(`{'pred': 'yes', ...}`) are left alone.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

PROMPT_DIR = Path(__file__).with_name("prompts")
FIELDS = ("question", "answer", "pred", "question1", "question2", "pred1", "pred2", "gpt_input")
ROLES = ("system", "assistant", "user")
_FIELD_RE = re.compile(r"\{(" + "|".join(FIELDS) + r")\}")


@cache
def load_template(name: str) -> tuple[tuple[str, str], ...]:
    """((role, text), ...) of one judge prompt in the order it is sent, read as bytes so nothing is normalised."""
    if not (PROMPT_DIR / f"{name}.system.txt").exists() or not (PROMPT_DIR / f"{name}.user.txt").exists():
        raise KeyError(f"unknown judge prompt {name!r}; known: {known_prompts()}")
    return tuple((role, (PROMPT_DIR / f"{name}.{role}.txt").read_bytes().decode("utf-8"))
                 for role in ROLES if (PROMPT_DIR / f"{name}.{role}.txt").exists())


@cache
def prompt_sha256(name: str) -> str:
    """sha256 of the prompt's turns joined by NUL: what `comparable_to_published` checks against the pin."""
    return hashlib.sha256(b"\0".join(text.encode("utf-8") for _, text in load_template(name))).hexdigest()


def template_fields(name: str) -> set[str]:
    return {f for _, text in load_template(name) for f in _FIELD_RE.findall(text)}


def render(name: str, **fields: object) -> list[dict[str, str]]:
    """Chat messages for one judge call, exactly as the reference script builds them."""
    missing = template_fields(name) - set(fields)
    if missing:
        raise KeyError(f"judge prompt {name!r} needs field(s) {sorted(missing)}")
    return [{"role": role, "content": _FIELD_RE.sub(lambda m: str(fields[m.group(1)]), text)}
            for role, text in load_template(name)]


def known_prompts() -> list[str]:
    return sorted(p.name[: -len(".user.txt")] for p in PROMPT_DIR.glob("*.user.txt"))
