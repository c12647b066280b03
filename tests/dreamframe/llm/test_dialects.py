"""Structured-output dialects: negotiated against servers that each take only their own (real HTTP on loopback)."""

from __future__ import annotations

import pytest

from dreamframe.llm import LLMConfig, LLMError, build_client
from dreamframe.llm.dialects import NEGOTIATION_ORDER
from dreamframe.llm.fake_server import FakeServer, request_dialect

SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}, "n": {"type": "integer"}},
          "required": ["title", "n"]}


def client(srv: FakeServer, **kw):
    return build_client(LLMConfig(backend="openai", base_url=srv.url, model="m", backoff_base=0.001,
                                  max_retries=1, **kw))


@pytest.mark.parametrize("server_dialect", [d for d in NEGOTIATION_ORDER if d != "none"])
def test_auto_finds_the_dialect_the_server_takes_and_remembers_it(server_dialect):
    with FakeServer(accepts={server_dialect}, responder=lambda body: '{"title": "T", "n": 1}') as srv:
        c = client(srv)
        assert c.chat("x", schema=SCHEMA).parsed == {"title": "T", "n": 1}
        c.chat("y", schema=SCHEMA)
        sent = [request_dialect(r)[0] for r in srv.requests]
        tried = list(NEGOTIATION_ORDER[: NEGOTIATION_ORDER.index(server_dialect) + 1])
        assert sent == tried + [server_dialect]  # negotiated once, then straight to the working dialect
        carries = request_dialect(srv.requests[-1])[1]
        assert carries == (None if server_dialect == "json_object" else SCHEMA)
        assert c.usage.structured_output == server_dialect and c.usage.as_dict()["structured_output"] == server_dialect


def test_llama_cpp_python_body_shape():
    """llama-cpp-python's server refuses json_schema with HTTP 500 and takes the schema inside json_object."""
    with FakeServer(accepts={"json_object_schema"}, responder=lambda body: '{"title": "B", "n": 1}') as srv:
        srv.script += [{"status": 500, "body": {"detail": [{"loc": ["body", "response_format", "type"],
                                                            "msg": "Input should be 'text' or 'json_object'"}]}}]
        c = client(srv)
        assert c.chat("x", schema=SCHEMA).parsed == {"title": "B", "n": 1}
        assert srv.requests[-1]["response_format"] == {"type": "json_object", "schema": SCHEMA}
        assert "JSON schema" in srv.requests[-1]["messages"][0]["content"]  # the schema is also in the prompt


def test_a_named_dialect_is_used_as_is_and_a_refusal_names_the_option():
    with FakeServer(accepts={"ollama_format"}) as srv:
        c = client(srv, response_format="ollama_format")
        c.chat("x", schema=SCHEMA)
        assert srv.requests[0]["format"] == SCHEMA and "response_format" not in srv.requests[0]
        pinned = client(srv, response_format="guided_json")
        with pytest.raises(LLMError, match="guided_json.*llm.response_format"):
            pinned.chat("x", schema=SCHEMA)
        assert len(srv.requests) == 2  # no silent fallback when the dialect was chosen


def test_no_schema_sends_no_dialect_fields():
    with FakeServer(accepts=set()) as srv:
        client(srv).chat("hello")
        assert request_dialect(srv.requests[0]) == ("none", None) and "format" not in srv.requests[0]


def test_unknown_dialect_is_a_clear_config_error():
    with pytest.raises(ValueError, match="llm.response_format"):
        build_client(LLMConfig(backend="openai", model="m", response_format="xml"))
