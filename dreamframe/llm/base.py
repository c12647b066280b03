"""The client every room uses: `chat` one prompt, `chat_many` a batch concurrently, both cached.

Backends implement one coroutine, `_complete(messages, params, schema)`, returning the reply text and
its token usage. This class adds what they share: the persistent cache, structured output with
validation and repair turns (the validation error is fed back to the model), and usage/cost totals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from dreamframe.llm.cache import ResponseCache, cache_key
from dreamframe.llm.config import LLMConfig
from dreamframe.llm.structured import InvalidReply, Schema, json_schema, repair_message, schema_instruction, validate

Messages = str | list[dict[str, str]]


class LLMError(RuntimeError):
    """A request that failed for good (after retries / repairs); the message says why."""


class StructuredOutputError(LLMError):
    """The model kept replying with JSON that does not fit the schema."""

    def __init__(self, message: str, last_text: str):
        super().__init__(message)
        self.last_text = last_text


@dataclass
class Usage:
    """Running totals of one client: what was asked, what it cost, what the cache saved."""

    requests: int = 0
    """Completed backend calls (not counting retries or cache hits)."""
    retries: int = 0
    cache_hits: int = 0
    repairs: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    structured_output: str | None = None
    """How replies were constrained to the schema: the HTTP dialect that worked (see dialects.py) or `xgrammar`."""

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cost_usd"] = round(self.cost_usd, 6)
        return d


@dataclass
class ChatResult:
    text: str
    parsed: Any = None
    """The validated reply (a model instance for pydantic schemas) when a schema was given."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    turns: int = 1
    """Model calls it took (1 + repair turns)."""


@dataclass
class ChatRequest:
    """One item of `chat_many`."""

    messages: Messages
    schema: Schema | None = None
    params: dict[str, Any] = field(default_factory=dict)
    check: Callable[[Any], Any] | None = None


def as_messages(messages: Messages) -> list[dict[str, str]]:
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    return [dict(m) for m in messages]


SAMPLING_KEYS = ("temperature", "top_p", "max_tokens", "seed")


class LLMClient:
    """Base class; use `dreamframe.llm.build_client(cfg)`."""

    backend = "base"

    def __init__(self, cfg: LLMConfig):
        self.cfg = cfg
        self.usage = Usage()
        self.cache = ResponseCache(cfg.cache) if cfg.cache else None

    @property
    def model_id(self) -> str:
        return self.cfg.model

    # -- for backends ---------------------------------------------------------------------------
    async def _complete(self, messages: list[dict[str, str]], params: dict[str, Any],
                        schema: Schema | None) -> tuple[str, int, int]:
        """Return (text, prompt_tokens, completion_tokens) for one conversation."""
        raise NotImplementedError

    # -- public ---------------------------------------------------------------------------------
    def sampling(self, **overrides: Any) -> dict[str, Any]:
        unknown = set(overrides) - set(SAMPLING_KEYS)
        if unknown:
            raise ValueError(f"unknown sampling parameter(s) {sorted(unknown)}; allowed: {SAMPLING_KEYS}")
        params = {k: getattr(self.cfg, k) for k in SAMPLING_KEYS}
        params.update({k: v for k, v in overrides.items() if v is not None})
        return params

    async def _cached_complete(self, messages: list[dict[str, str]], params: dict[str, Any],
                               schema: Schema | None) -> tuple[str, int, int, bool]:
        key = None
        if self.cache is not None:
            key = cache_key({"backend": self.backend, "model": self.model_id, "messages": messages,
                             "params": params, "schema": json_schema(schema) if schema is not None else None})
            hit = self.cache.get(key)
            if hit is not None:
                self.usage.cache_hits += 1
                return hit["text"], hit["prompt_tokens"], hit["completion_tokens"], True
        text, p_tok, c_tok = await self._complete(messages, params, schema)
        if len(text.encode("utf-8", errors="replace")) > self.cfg.max_reply_bytes:  # any backend: never cached
            raise LLMError(f"{self.backend}:{self.model_id}: reply of more than {self.cfg.max_reply_bytes} bytes "
                           "(llm.max_reply_bytes) refused; not cached")
        self.usage.requests += 1
        self.usage.prompt_tokens += p_tok
        self.usage.completion_tokens += c_tok
        self.usage.cost_usd += (p_tok * self.cfg.price_input_per_mtok + c_tok * self.cfg.price_output_per_mtok) / 1e6
        if key is not None:
            self.cache.put(key, {"text": text, "prompt_tokens": p_tok, "completion_tokens": c_tok})
        return text, p_tok, c_tok, False

    async def achat(self, messages: Messages, schema: Schema | None = None,
                    check: Callable[[Any], Any] | None = None, **params: Any) -> ChatResult:
        """One conversation; with a schema, the reply is validated and repaired up to `max_repairs` times.

        `check(parsed)` may add rules a schema cannot say (raise InvalidReply / ValueError with the
        reason, which is fed back like a schema error); its return value replaces `parsed`."""
        msgs = as_messages(messages)
        sampling = self.sampling(**params)
        if schema is not None:
            msgs = [{"role": "system", "content": schema_instruction(schema)}, *msgs] if msgs[0]["role"] != "system" \
                else [{"role": "system", "content": msgs[0]["content"] + "\n\n" + schema_instruction(schema)}, *msgs[1:]]
        result = ChatResult(text="", turns=0)
        cached_all = True
        for attempt in range(self.cfg.max_repairs + 1):
            text, p_tok, c_tok, cached = await self._cached_complete(msgs, sampling, schema)
            result.text, result.turns = text, result.turns + 1
            result.prompt_tokens += p_tok
            result.completion_tokens += c_tok
            cached_all = cached_all and cached
            if schema is None:
                break
            try:
                result.parsed = validate(text, schema)
                if check is not None:
                    result.parsed = check(result.parsed)
                break
            except (InvalidReply, ValueError) as err:
                if attempt == self.cfg.max_repairs:
                    self.usage.failures += 1
                    raise StructuredOutputError(
                        f"{self.backend}:{self.model_id}: no valid reply after {attempt + 1} turn(s): {err}", text) from None
                self.usage.repairs += 1
                msgs = [*msgs, {"role": "assistant", "content": text}, {"role": "user", "content": repair_message(str(err))}]
        result.cached = cached_all
        return result

    async def achat_many(self, requests: Sequence[ChatRequest | Messages], schema: Schema | None = None,
                         return_exceptions: bool = True, progress: bool = False, **params: Any) -> list[Any]:
        """Many conversations concurrently (bounded by the backend); results in input order.

        With return_exceptions, a failed item is its exception instead of stopping the batch."""
        reqs = [r if isinstance(r, ChatRequest) else ChatRequest(r, schema, params) for r in requests]
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(reqs), desc=f"llm {self.model_id}", unit="req")

        async def one(r: ChatRequest) -> Any:
            try:
                return await self.achat(r.messages, r.schema, r.check, **r.params)
            finally:
                if bar is not None:
                    bar.update()

        try:
            return await asyncio.gather(*(one(r) for r in reqs), return_exceptions=return_exceptions)
        finally:
            if bar is not None:
                bar.close()

    def chat(self, messages: Messages, schema: Schema | None = None, **params: Any) -> ChatResult:
        """Blocking `achat` (not from inside a running event loop: await `achat` there)."""
        return asyncio.run(self._in_loop(self.achat(messages, schema, None, **params)))

    def chat_many(self, requests: Sequence[ChatRequest | Messages], schema: Schema | None = None,
                  return_exceptions: bool = True, progress: bool = False, **params: Any) -> list[Any]:
        """Blocking `achat_many`."""
        return asyncio.run(self._in_loop(self.achat_many(requests, schema, return_exceptions, progress, **params)))

    async def _in_loop(self, coro):
        try:
            return await coro
        finally:
            await self.aclose_loop_resources()

    async def aclose_loop_resources(self) -> None:
        """Release per-event-loop resources (HTTP connections); the client stays usable."""

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
            self.cache = None
