"""OpenAI-compatible chat client over httpx: OpenAI, vLLM, llama.cpp server, or any compatible endpoint.

POST {base_url}/chat/completions with bounded concurrency (`max_concurrency` requests in flight),
retries with exponential backoff and jitter on 429 / 5xx / timeouts / dropped connections (a
`Retry-After` header wins), and structured output: `response_format` json_schema where the server
supports it, else json_object, else the schema in the prompt only - every reply is validated anyway.
The API key is read from the environment variable named in the config and never logged.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from typing import Any

from dreamframe.llm.base import LLMClient, LLMError
from dreamframe.llm.config import LLMConfig
from dreamframe.llm.secrets import read_api_key, redact
from dreamframe.llm.structured import Schema, json_schema, schema_name

FORMAT_MODES = ("json_schema", "json_object", "none")
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
POOL_SIZE = 8


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _format_refused(status: int, body: str) -> bool:
    low = body.lower()
    return status in (400, 404, 415, 422, 500, 501) and any(
        w in low for w in ("response_format", "json_schema", "json_object", "structured output", "grammar"))


class OpenAIClient(LLMClient):
    """Chat completions against an OpenAI-compatible HTTP API."""

    backend = "openai"

    def __init__(self, cfg: LLMConfig):
        if not cfg.model:
            raise ValueError("llm.model: name the model the server should use (e.g. --llm.model gpt-4o)")
        if not cfg.base_url.startswith(("http://", "https://")):
            raise ValueError(f"llm.base_url: {cfg.base_url!r} is not an http(s) URL")
        if cfg.max_concurrency < 1:
            raise ValueError(f"llm.max_concurrency must be >= 1, got {cfg.max_concurrency}")
        if "api.openai.com" in cfg.base_url and not read_api_key(cfg.api_key_env):
            raise ValueError(f"llm.api_key_env: the environment variable {cfg.api_key_env} holding the API key is not set")
        super().__init__(cfg)
        self.url = cfg.base_url.rstrip("/") + "/chat/completions"
        self.format_mode = cfg.response_format
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: list | None = None
        self._slots: asyncio.Queue | None = None

    def _headers(self) -> dict[str, str]:
        key = read_api_key(self.cfg.api_key_env)
        if not key and "api.openai.com" in self.cfg.base_url:
            raise LLMError(f"no API key: set the environment variable {self.cfg.api_key_env} (llm.api_key_env)")
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _resources(self):
        """Per event loop: `max_concurrency` request slots over pools of at most POOL_SIZE connections
        (httpcore's pool bookkeeping grows with its size, so one big pool costs CPU at high concurrency)."""
        import httpx

        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            n = self.cfg.max_concurrency
            sizes = [min(POOL_SIZE, n - i) for i in range(0, n, POOL_SIZE)]
            headers = self._headers()
            self._http = [httpx.AsyncClient(
                timeout=httpx.Timeout(self.cfg.timeout, connect=min(30.0, self.cfg.timeout)),
                limits=httpx.Limits(max_connections=k, max_keepalive_connections=k), headers=headers) for k in sizes]
            self._slots = asyncio.Queue()
            for pool, k in enumerate(sizes):
                for _ in range(k):
                    self._slots.put_nowait(pool)
            self._loop = loop
        return self._http, self._slots

    async def aclose_loop_resources(self) -> None:
        for http in self._http or []:
            await http.aclose()
        self._http, self._slots, self._loop = None, None, None

    def _body(self, messages: list[dict[str, str]], params: dict[str, Any], schema: Schema | None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.cfg.model, "messages": messages,
                                **{k: v for k, v in params.items() if v is not None}}
        if schema is not None and self.format_mode == "json_schema":
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": schema_name(schema), "schema": json_schema(schema), "strict": False}}
        elif schema is not None and self.format_mode == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.cfg.backoff_max)
        return min(self.cfg.backoff_max, self.cfg.backoff_base * 2 ** attempt) * (0.5 + random.random() / 2)

    async def _complete(self, messages, params, schema):
        pools, slots = self._resources()
        pool = await slots.get()
        try:
            return await self._send(pools[pool], messages, params, schema)
        except Exception as err:  # the error boundary: no key in any message that leaves the client
            key = read_api_key(self.cfg.api_key_env)
            if key and redact(str(err), key) != str(err):
                raise LLMError(redact(str(err), key)) from None
            raise
        finally:
            slots.put_nowait(pool)

    async def _send(self, http, messages, params, schema) -> tuple[str, int, int]:
        """One request with retries; holds its slot while backing off, so a 429 storm slows the sender."""
        import httpx

        attempt = 0
        while True:
            body = self._body(messages, params, schema)
            why, retry_after = "", None
            try:
                resp = await http.post(self.url, json=body)
            except (httpx.TimeoutException, httpx.TransportError) as err:
                why = f"{type(err).__name__}: {err}"
            else:
                if resp.status_code == 200:
                    return self._parse(resp)
                text = resp.text[:500]
                if schema is not None and self.format_mode != "none" and _format_refused(resp.status_code, text):
                    self.format_mode = FORMAT_MODES[FORMAT_MODES.index(self.format_mode) + 1]
                    continue  # the server refused the structured-output mode: ask again with a weaker one
                if resp.status_code not in RETRY_STATUS:
                    hint = f" (is {self.cfg.api_key_env} set?)" if resp.status_code in (401, 403) else ""
                    raise LLMError(f"{self.url}: HTTP {resp.status_code}{hint}: {text}")
                why = f"HTTP {resp.status_code}: {text[:200]}"
                retry_after = retry_after_seconds(resp.headers.get("retry-after"))
            if attempt >= self.cfg.max_retries:
                raise LLMError(f"{self.url}: gave up after {attempt + 1} attempts; last error {why}")
            self.usage.retries += 1
            await asyncio.sleep(self._backoff(attempt, retry_after))
            attempt += 1

    def _parse(self, resp) -> tuple[str, int, int]:
        try:
            data = resp.json()
            text = data["choices"][0]["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as err:
            raise LLMError(f"{self.url}: reply is not a chat completion ({err}): {resp.text[:300]}") from None
        usage = data.get("usage") or {}
        return text, int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
