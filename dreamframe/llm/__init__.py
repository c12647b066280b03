"""The LLM client layer shared by the plot writer (data_gen) and the judges (eval).

    from dreamframe.llm import LLMConfig, build_client
    client = build_client(LLMConfig(backend="openai", base_url="http://localhost:8000/v1", model="m",
                                    cache="runs/llm.sqlite"))
    reply = client.chat("Say hi as JSON", schema={"type": "object", ...})   # .text, .parsed
    replies = client.chat_many([...], schema=MyModel)                          # concurrent, in order
    client.usage.as_dict()                                                     # tokens, cost, cache hits

Heavy imports (httpx, torch, transformers, xgrammar) happen when a backend is built or first used.
"""

from __future__ import annotations

from dreamframe.llm.base import ChatRequest, ChatResult, LLMClient, LLMError, StructuredOutputError, Usage
from dreamframe.llm.cache import ResponseCache, cache_key
from dreamframe.llm.config import LLMConfig
from dreamframe.llm.structured import InvalidReply, extract_json, validate


def build_client(cfg: LLMConfig) -> LLMClient:
    """The client for `cfg.backend`."""
    if cfg.backend == "openai":
        from dreamframe.llm.openai_http import OpenAIClient

        return OpenAIClient(cfg)
    if cfg.backend == "transformers":
        from dreamframe.llm.local import TransformersClient

        return TransformersClient(cfg)
    raise ValueError(f"llm.backend: unknown backend {cfg.backend!r}; choose 'openai' or 'transformers'")


__all__ = ["LLMConfig", "LLMClient", "LLMError", "StructuredOutputError", "InvalidReply", "ChatRequest",
           "ChatResult", "Usage", "ResponseCache", "cache_key", "build_client", "extract_json", "validate"]
