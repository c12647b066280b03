"""Judge prompt templates, stored as the reference scripts' exact text (see prompts/SOURCES.md).

Fields are filled in ONE regex pass, so a `{pred}` that happens to appear inside a model answer is
never substituted again, and the literal dict examples (`{'pred': 'yes', ...}`) are left alone.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

PROMPT_DIR = Path(__file__).with_name("prompts")
FIELDS = ("question", "answer", "pred", "question1", "question2", "pred1", "pred2")
_FIELD_RE = re.compile(r"\{(" + "|".join(FIELDS) + r")\}")


@lru_cache(maxsize=None)
def load_template(name: str) -> tuple[str, str]:
    """(system, user) text of one judge prompt, read as bytes so nothing is normalised."""
    system, user = PROMPT_DIR / f"{name}.system.txt", PROMPT_DIR / f"{name}.user.txt"
    if not system.exists() or not user.exists():
        known = sorted(p.name.split(".")[0] for p in PROMPT_DIR.glob("*.user.txt"))
        raise KeyError(f"unknown judge prompt {name!r}; known: {known}")
    return system.read_bytes().decode("utf-8"), user.read_bytes().decode("utf-8")


def template_fields(name: str) -> set[str]:
    return set(_FIELD_RE.findall(load_template(name)[1]))


def render(name: str, **fields: object) -> list[dict[str, str]]:
    """Chat messages for one judge call: [system, user] exactly as the reference script builds them."""
    system, user = load_template(name)
    missing = template_fields(name) - set(fields)
    if missing:
        raise KeyError(f"judge prompt {name!r} needs field(s) {sorted(missing)}")
    text = _FIELD_RE.sub(lambda m: str(fields[m.group(1)]), user)
    return [{"role": "system", "content": system}, {"role": "user", "content": text}]


def known_prompts() -> list[str]:
    return sorted(p.name[: -len(".user.txt")] for p in PROMPT_DIR.glob("*.user.txt"))
