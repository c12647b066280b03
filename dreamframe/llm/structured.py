"""Structured replies: the JSON schema asked for, and the checks a reply must pass.

A schema is a pydantic model class or a plain JSON-schema dict. A reply is parsed leniently (code
fences and chatter around the object are stripped) and then validated strictly; the error text is
what the repair turn feeds back to the model.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

Schema = type[BaseModel] | dict[str, Any]


class InvalidReply(ValueError):
    """A reply that is not valid JSON or does not match the schema; the message says what is wrong."""


def json_schema(schema: Schema) -> dict[str, Any]:
    if isinstance(schema, dict):
        return schema
    return schema.model_json_schema()


def schema_name(schema: Schema) -> str:
    name = schema.get("title", "reply") if isinstance(schema, dict) else schema.__name__
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(name))[:64] or "reply"


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def extract_json(text: str) -> Any:
    """The JSON value in a reply, tolerating code fences and text around one object."""
    candidates = [text.strip(), *(m.strip() for m in _FENCE.findall(text))]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    err: json.JSONDecodeError | None = None
    for cand in candidates:
        try:
            return json.loads(cand, strict=False)  # tolerate raw control characters in strings
        except json.JSONDecodeError as e:
            err = err or e
    raise InvalidReply(f"reply is not valid JSON ({err}); it began: {text[:200]!r}")


def _pydantic_errors(err: ValidationError) -> str:
    return "; ".join(f"field {'.'.join(str(x) for x in e['loc']) or '<root>'}: {e['msg']}" for e in err.errors()[:12])


def validate(text: str, schema: Schema) -> Any:
    """Parse and check a reply: a model instance for pydantic schemas, else the validated JSON value."""
    value = extract_json(text)
    if isinstance(schema, dict):
        import jsonschema

        validator = jsonschema.Draft202012Validator(schema)
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        if errors:
            msgs = [f"field {'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in errors[:12]]
            raise InvalidReply("; ".join(msgs))
        return value
    try:
        return schema.model_validate(value)
    except ValidationError as err:
        raise InvalidReply(_pydantic_errors(err)) from None


def schema_instruction(schema: Schema) -> str:
    """Told to the model in every mode, so servers without structured output still know the shape."""
    return ("Reply with one JSON object only, no other text, matching this JSON schema:\n"
            + json.dumps(json_schema(schema), ensure_ascii=False))


def repair_message(error: str) -> str:
    return (f"Your reply was not accepted: {error}\n"
            "Reply again with the corrected JSON object only, matching the schema.")
