"""Bounds of one LLM request against a real loopback server that misbehaves (issue 27, problems 3 and 6):
a total deadline per attempt however slowly the reply drips, and a largest reply, refused while it
streams in - never cached, retried or sent back in a repair turn."""

from __future__ import annotations

import time

import pytest

from dreamframe.llm import LLMConfig, LLMError, build_client
from tests.dreamframe.llm.hostile_server import HostileServer

SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}


def client(url: str, **kw):
    return build_client(LLMConfig(backend="openai", base_url=url, model="m", backoff_base=0.001, **kw))


def test_a_dripping_server_is_cut_at_the_timeout():
    """One byte a second never trips a per-read timeout; the attempt must still end at llm.timeout."""
    import httpx  # noqa: F401 - imported by the first request otherwise, inside the timed span

    with HostileServer("drip", drip_s=8.0) as srv:
        c = client(srv.url, timeout=2.0, max_retries=0)
        started = time.monotonic()
        with pytest.raises(LLMError, match=r"gave up after 1 attempts; last error no complete reply within "
                                           r"llm.timeout=2 s"):
            c.chat("hello")
        elapsed = time.monotonic() - started
    assert 2.0 <= elapsed < 3.0, elapsed


@pytest.mark.parametrize("mode", ["huge", "huge_declared"])
def test_a_100_mb_reply_is_refused_while_streaming_and_never_cached_or_sent_back(tmp_path, mode):
    cache = tmp_path / "cache.sqlite"
    with HostileServer(mode, size=100_000_000) as srv:
        c = client(srv.url, max_reply_bytes=1_000_000, max_retries=3, max_repairs=2, cache=str(cache))
        with pytest.raises(LLMError, match=r"reply of more than 1000000 bytes \(llm.max_reply_bytes\) refused"):
            c.chat("hello", schema=SCHEMA)
        time.sleep(0.2)  # let the server notice the hang-up
        assert len(srv.request_sizes) == 1, "refused replies are not asked for again (no retry, no repair turn)"
        assert max(srv.request_sizes) < 10_000, "nothing big was sent back"
        assert srv.sent < 50_000_000, f"the client read {srv.sent} bytes of a reply it should have cut"
        assert len(c.cache) == 0 and cache.stat().st_size < 1_000_000
        c.close()


def test_the_limit_is_a_config_option_recorded_with_the_run():
    from data_gen.config import GenerateConfig
    from dreamframe.config import to_dict

    assert to_dict(GenerateConfig())["llm"]["max_reply_bytes"] == 8_000_000
    with pytest.raises(ValueError, match="llm.max_reply_bytes"):
        client("http://127.0.0.1:9/v1", max_reply_bytes=0)
