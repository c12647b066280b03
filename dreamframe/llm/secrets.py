"""API keys: read from the environment without stray whitespace, and scrubbed from any text shown or stored."""

from __future__ import annotations

import os

MASK = "***"


def read_api_key(env_name: str) -> str:
    """The key in `env_name`, stripped (a key pasted with its newline is a common mistake), or ''."""
    return os.environ.get(env_name, "").strip()


def redact(text: str, *secrets: str) -> str:
    """`text` with every secret replaced by ***, also in the escaped form repr() gives it."""
    for secret in secrets:
        for form in {secret, secret.strip(), repr(secret)[1:-1], repr(secret.strip())[1:-1]}:
            if form:
                text = text.replace(form, MASK)
    return text
