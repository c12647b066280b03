"""The LLM client layer against a real HTTP server on localhost (dreamframe.llm.fake_server)."""

from __future__ import annotations

import time

import pytest
from pydantic import BaseModel

from dreamframe.llm import LLMConfig, LLMError, StructuredOutputError, build_client
from dreamframe.llm.fake_server import FakeServer

SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}, "n": {"type": "integer"}},
          "required": ["title", "n"]}


class Verdict(BaseModel):
    supported: bool
    reason: str


def client(srv: FakeServer, **kw):
    cfg = dict(backend="openai", base_url=srv.url, model="fake-model", backoff_base=0.001, max_retries=4)
    cfg.update(kw)
    return build_client(LLMConfig(**cfg))


def test_retries_500_and_429_then_succeeds():
    with FakeServer() as srv:
        srv.script += [{"status": 500}, {"status": 429, "headers": {"Retry-After": "0"}}, {"status": 503}]
        c = client(srv)
        r = c.chat("hello", schema=SCHEMA)
        assert r.parsed == {"title": "Amber", "n": 0}
        assert len(srv.requests) == 4 and c.usage.retries == 3 and c.usage.requests == 1


def test_retry_after_header_is_honoured():
    with FakeServer() as srv:
        srv.script += [{"status": 429, "headers": {"Retry-After": "0.4"}}]
        c = client(srv, backoff_base=0.0)
        t = time.perf_counter()
        c.chat("hello")
        assert time.perf_counter() - t >= 0.4


def test_timeout_is_retried():
    with FakeServer() as srv:
        srv.script += [{"content": "slow", "delay": 1.0}]
        r = client(srv, timeout=0.3).chat("hello")
        assert r.text == "ok" and len(srv.requests) == 2


def test_gives_up_after_max_retries_and_names_the_error():
    with FakeServer() as srv:
        srv.script += [{"status": 503}] * 3
        with pytest.raises(LLMError, match="gave up after 3 attempts.*HTTP 503"):
            client(srv, max_retries=2).chat("hello")


def test_client_errors_are_not_retried_and_key_is_never_shown(monkeypatch):
    monkeypatch.setenv("DF_TEST_KEY", "sk-secret-123")
    with FakeServer() as srv:
        srv.script += [{"status": 401, "body": {"error": {"message": "bad key"}}}]
        with pytest.raises(LLMError, match="HTTP 401.*DF_TEST_KEY") as info:
            client(srv, api_key_env="DF_TEST_KEY").chat("hello")
        assert "sk-secret-123" not in str(info.value)
        assert srv.headers[0]["Authorization"] == "Bearer sk-secret-123" and len(srv.requests) == 1


def test_malformed_json_is_repaired_with_the_error_fed_back():
    with FakeServer() as srv:
        srv.script += [{"content": "Sure! {\"supported\": tru"}, {"content": '{"supported": "maybe"}'}]
        c = client(srv)
        r = c.chat("is it true?", schema=Verdict)
        assert isinstance(r.parsed, Verdict) and r.turns == 3 and c.usage.repairs == 2
        second, third = srv.requests[1]["messages"], srv.requests[2]["messages"]
        assert "not valid JSON" in second[-1]["content"] and second[-2]["role"] == "assistant"
        assert "supported" in third[-1]["content"] and "reason" in third[-1]["content"]  # names the bad fields
        assert srv.requests[0]["response_format"]["type"] == "json_schema"


def test_repairs_run_out():
    with FakeServer() as srv:
        srv.script += [{"content": "no"}] * 2
        with pytest.raises(StructuredOutputError, match="no valid reply after 2 turn"):
            client(srv, max_repairs=1).chat("x", schema=SCHEMA)


def test_json_fenced_reply_is_accepted():
    with FakeServer() as srv:
        srv.script += [{"content": "Here:\n```json\n{\"title\": \"A\", \"n\": 2}\n```"}]
        assert client(srv).chat("x", schema=SCHEMA).parsed == {"title": "A", "n": 2}


def test_cache_second_run_makes_zero_requests_and_resumes(tmp_path):
    prompts = [f"prompt {i}" for i in range(6)]
    with FakeServer() as srv:
        first = client(srv, cache=str(tmp_path / "c.sqlite"))
        a = first.chat_many(prompts[:4], schema=SCHEMA)  # a "killed" run that got through 4 of 6
        assert len(srv.requests) == 4
        second = client(srv, cache=str(tmp_path / "c.sqlite"))
        b = second.chat_many(prompts, schema=SCHEMA)
        assert len(srv.requests) == 6 and second.usage.cache_hits == 4 and second.usage.requests == 2
        third = client(srv, cache=str(tmp_path / "c.sqlite"))
        c = third.chat_many(prompts, schema=SCHEMA)
        assert len(srv.requests) == 6 and third.usage.requests == 0 and all(r.cached for r in c)
        assert [r.text for r in c] == [r.text for r in b] and [r.text for r in a] == [r.text for r in b[:4]]
        third.chat("prompt 0", schema=SCHEMA, temperature=0.1)  # other sampling params: another key
        assert len(srv.requests) == 7


def test_concurrency_is_bounded_and_order_kept():
    with FakeServer(latency=0.1, responder=lambda body: body["messages"][-1]["content"]) as srv:
        c = client(srv, max_concurrency=4)
        t = time.perf_counter()
        out = c.chat_many([f"p{i}" for i in range(12)])
        elapsed = time.perf_counter() - t
        assert [r.text for r in out] == [f"p{i}" for i in range(12)]
        assert srv.max_in_flight == 4 and elapsed < 0.1 * 12 / 2


def test_usage_and_cost_accounting():
    with FakeServer(responder=lambda body: "one two three") as srv:
        c = client(srv, price_input_per_mtok=1_000_000.0, price_output_per_mtok=2_000_000.0)
        c.chat_many(["a b", "c d"])
        u = c.usage.as_dict()
        assert u["completion_tokens"] == 6 and u["prompt_tokens"] == 4
        assert u["cost_usd"] == pytest.approx(4 * 1.0 + 6 * 2.0)


def test_failed_item_does_not_stop_the_batch():
    with FakeServer() as srv:
        srv.script += [{"status": 400, "body": {"error": {"message": "bad"}}}]
        out = client(srv, max_concurrency=1).chat_many(["a", "b"])
        assert isinstance(out[0], LLMError) and out[1].text == "ok"


def test_bad_config_is_named():
    with pytest.raises(ValueError, match="llm.model"):
        build_client(LLMConfig(backend="openai", model=""))
    with pytest.raises(ValueError, match="llm.base_url"):
        build_client(LLMConfig(backend="openai", model="m", base_url="localhost:8000"))


def test_missing_openai_key_is_named_before_any_request(monkeypatch):
    monkeypatch.delenv("DF_MISSING_KEY", raising=False)
    with pytest.raises(ValueError, match="DF_MISSING_KEY"):
        build_client(LLMConfig(backend="openai", model="gpt-4o", base_url="https://api.openai.com/v1",
                               api_key_env="DF_MISSING_KEY"))


def test_retry_after_accepts_seconds_and_http_dates():
    import email.utils

    from dreamframe.llm.openai_http import retry_after_seconds

    assert retry_after_seconds("2") == 2.0 and retry_after_seconds(None) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: retry now
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after_seconds(soon) <= 31
    assert retry_after_seconds("soon") is None
