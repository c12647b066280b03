"""OpenAI-compatible chat client over httpx: OpenAI, vLLM, llama.cpp server, or any compatible endpoint.

POST {base_url}/chat/completions with bounded concurrency (`max_concurrency` requests in flight),
retries with exponential backoff and jitter on 429 / 5xx / timeouts / dropped connections (a
`Retry-After` header wins), and structured output in the server's dialect (`dialects.py`): negotiated
on refusal and remembered, or pinned by `llm.response_format` - every reply is validated anyway.
The API key is read from the environment variable named in the config and never logged.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dreamframe.llm import dialects
from dreamframe.llm.base import LLMClient, LLMError
from dreamframe.llm.config import LLMConfig
from dreamframe.llm.secrets import read_api_key, redact
from dreamframe.llm.structured import Schema, json_schema, schema_name

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


@dataclass
class Reply:
    """An HTTP reply read within the size limit."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


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
        if cfg.timeout <= 0 or cfg.max_reply_bytes < 1:
            raise ValueError(f"llm.timeout and llm.max_reply_bytes must be positive, got {cfg.timeout}, "
                             f"{cfg.max_reply_bytes}")
        if "api.openai.com" in cfg.base_url and not read_api_key(cfg.api_key_env):
            raise ValueError(f"llm.api_key_env: the environment variable {cfg.api_key_env} holding the API key is not set")
        super().__init__(cfg)
        self.url = cfg.base_url.rstrip("/") + "/chat/completions"
        self.negotiate = cfg.response_format == "auto"
        self.format_mode = dialects.NEGOTIATION_ORDER[0] if self.negotiate else cfg.response_format
        """The structured-output dialect sent now; after a refusal under `auto`, the next that works."""
        dialects.request_fields(self.format_mode, {}, "check")  # an unknown dialect fails here, naming the option
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

    def _body(self, messages: list[dict[str, str]], params: dict[str, Any], schema: Schema | None,
              dialect: str) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.cfg.model, "messages": messages,
                                **{k: v for k, v in params.items() if v is not None}}
        if schema is not None:
            body.update(dialects.request_fields(dialect, json_schema(schema), schema_name(schema)))
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
            body_mode = self.format_mode
            body = self._body(messages, params, schema, body_mode)
            why, retry_after = "", None
            try:
                async with asyncio.timeout(self.cfg.timeout):  # the whole attempt, not each read
                    resp = await self._post(http, body)
            except TimeoutError:
                why = f"no complete reply within llm.timeout={self.cfg.timeout:g} s"
            except (httpx.TimeoutException, httpx.TransportError) as err:
                why = f"{type(err).__name__}: {err}"
            else:
                if resp.status_code == 200:
                    if schema is not None:
                        self.usage.structured_output = body_mode
                    return self._parse(resp)
                text = resp.text[:500]
                if schema is not None and body_mode != "none" and dialects.refused(resp.status_code, text):
                    if not self.negotiate:
                        raise LLMError(f"{self.url}: the server refused structured output in the {body_mode!r} dialect "
                                       f"(llm.response_format; `auto` negotiates one): HTTP {resp.status_code}: {text}")
                    if self.format_mode == body_mode:  # concurrent requests may have moved on already
                        self.format_mode = dialects.next_dialect(body_mode)
                    continue  # ask again in the next dialect
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

    async def _post(self, http, body: dict[str, Any]) -> Reply:
        """POST and read the reply as it streams in, refusing it once it passes llm.max_reply_bytes (a
        declared Content-Length too): a runaway server costs at most that much memory."""
        limit = self.cfg.max_reply_bytes
        async with http.stream("POST", self.url, json=body) as resp:
            declared = resp.headers.get("content-length", "")
            too_big = declared.isdigit() and int(declared) > limit
            chunks: list[bytes] = []
            read = 0
            if not too_big:
                async for chunk in resp.aiter_bytes():  # decoded: a gzip bomb is counted at its real size
                    read += len(chunk)
                    too_big = read > limit
                    if too_big:
                        break
                    chunks.append(chunk)
            if too_big:
                raise LLMError(f"{self.url}: reply of more than {limit} bytes (llm.max_reply_bytes) refused; "
                               "not cached, not retried")
            return Reply(resp.status_code, resp.headers, b"".join(chunks))

    def _parse(self, resp: Reply) -> tuple[str, int, int]:
        try:
            data = resp.json()
            text = data["choices"][0]["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as err:
            raise LLMError(f"{self.url}: reply is not a chat completion ({err}): {resp.text[:300]}") from None
        usage = data.get("usage") or {}
        return text, int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
