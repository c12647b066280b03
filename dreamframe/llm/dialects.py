"""How each kind of OpenAI-compatible server is asked for JSON that fits a schema.

Servers agree on `/chat/completions` but not on structured output. Each dialect is the request
fields that ask for it, as documented by the server:

| dialect | request fields | servers |
|---|---|---|
| `json_schema` | `response_format: {type: json_schema, json_schema: {name, schema, strict}}` | OpenAI, vLLM, SGLang, llama.cpp `llama-server`, Ollama `/v1` |
| `json_object_schema` | `response_format: {type: json_object, schema}` | llama-cpp-python `llama_cpp.server` (refuses `json_schema` with HTTP 500) |
| `structured_outputs` | `structured_outputs: {json: schema}` | vLLM >= 0.10.2 (its own field) |
| `guided_json` | `guided_json: schema` | vLLM < 0.12 (removed there) |
| `ollama_format` | `format: schema` | Ollama's native chat API |
| `json_object` | `response_format: {type: json_object}` | any JSON mode without a schema |
| `none` | nothing: the schema is only in the prompt | any server |

`response_format: auto` tries them in this order and moves on when a server refuses one (an HTTP
error naming the field); the client remembers the dialect that worked. The schema is also always
in the system message, and every reply is validated, whatever the dialect.
"""

from __future__ import annotations

from typing import Any

NEGOTIATION_ORDER: tuple[str, ...] = ("json_schema", "json_object_schema", "structured_outputs", "guided_json",
                                      "ollama_format", "json_object", "none")
REFUSAL_STATUS = frozenset({400, 404, 415, 422, 500, 501})
REFUSAL_WORDS = ("response_format", "json_schema", "json_object", "schema", "structured", "guided", "grammar",
                 "format", "unrecognized", "extra inputs", "unknown field")


def request_fields(dialect: str, schema: dict[str, Any], name: str) -> dict[str, Any]:
    """The fields to merge into the request body to ask for `schema` in `dialect`."""
    if dialect == "json_schema":
        return {"response_format": {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}}
    if dialect == "json_object_schema":
        return {"response_format": {"type": "json_object", "schema": schema}}
    if dialect == "structured_outputs":
        return {"structured_outputs": {"json": schema}}
    if dialect == "guided_json":
        return {"guided_json": schema}
    if dialect == "ollama_format":
        return {"format": schema}
    if dialect == "json_object":
        return {"response_format": {"type": "json_object"}}
    if dialect == "none":
        return {}
    raise ValueError(f"llm.response_format: unknown dialect {dialect!r}; choose auto or one of {NEGOTIATION_ORDER}")


def refused(status: int, body: str) -> bool:
    """Whether an error reply says the server does not take the structured-output fields sent."""
    low = body.lower()
    return status in REFUSAL_STATUS and any(w in low for w in REFUSAL_WORDS)


def next_dialect(dialect: str) -> str | None:
    """The dialect to try after `dialect` was refused (None after `none`)."""
    i = NEGOTIATION_ORDER.index(dialect)
    return NEGOTIATION_ORDER[i + 1] if i + 1 < len(NEGOTIATION_ORDER) else None
